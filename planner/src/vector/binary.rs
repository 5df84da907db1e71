//! pgvector's binary send/receive layout: int16 dimensions, int16 zero, then each element as a
//! big-endian float4.

use super::error::VectorError;
use super::text::{check_dims, check_element};

/// Appends a vector's binary form to `out`.
pub fn send_vector(values: &[f32], out: &mut Vec<u8>) {
    out.reserve(4 + values.len() * 4);
    out.extend_from_slice(&(values.len() as i16).to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Why binary input was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecvError {
    #[error(transparent)]
    Vector(#[from] VectorError),
    /// 22023
    #[error("expected unused to be 0, not {0}")]
    Unused(i16),
    /// 08P01
    #[error("insufficient data left in message")]
    Short,
    /// 08P01
    #[error("incorrect binary data format")]
    Trailing,
}

/// Reads a vector's binary form.
pub fn recv_vector(bytes: &[u8]) -> Result<Vec<f32>, RecvError> {
    let header = bytes.get(..4).ok_or(RecvError::Short)?;
    let dims = i16::from_be_bytes([header[0], header[1]]);
    let unused = i16::from_be_bytes([header[2], header[3]]);
    check_dims(dims.max(0) as usize, None)?;
    if unused != 0 {
        return Err(RecvError::Unused(unused));
    }
    let body = &bytes[4..];
    let need = dims as usize * 4;
    if body.len() < need {
        return Err(RecvError::Short);
    }
    if body.len() > need {
        return Err(RecvError::Trailing);
    }
    body.chunks_exact(4)
        .map(|c| check_element(f32::from_be_bytes([c[0], c[1], c[2], c[3]])).map_err(RecvError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut out = Vec::new();
        send_vector(&[1.0, -2.5], &mut out);
        assert_eq!(out, [0, 2, 0, 0, 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0]);
        assert_eq!(recv_vector(&out).unwrap(), vec![1.0, -2.5]);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(recv_vector(&[0, 1]), Err(RecvError::Short)));
        assert!(matches!(recv_vector(&[0, 1, 0, 0, 0, 0]), Err(RecvError::Short)));
        assert!(matches!(recv_vector(&[0, 0, 0, 0]), Err(RecvError::Vector(VectorError::Empty { .. }))));
        assert!(matches!(recv_vector(&[0, 1, 0, 1, 0, 0, 0, 0]), Err(RecvError::Unused(1))));
        assert!(matches!(recv_vector(&[0, 1, 0, 0, 0x7f, 0xc0, 0, 0]), Err(RecvError::Vector(VectorError::NaN { .. }))));
    }
}
