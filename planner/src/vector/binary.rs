//! pgvector's binary send/receive layout: int16 dimensions, int16 zero, then each element as a
//! big-endian float4 (`vector`) or float16 (`halfvec`).

use half::f16;

use super::Kind;
use super::error::VectorError;
use super::text::{check_kind_dims, check_kind_element};

/// Appends a vector's binary form to `out`.
pub fn send_vector(values: &[f32], out: &mut Vec<u8>) {
    send(Kind::Vector, values, out)
}

/// Appends the binary form of a vector of `kind` to `out`.
pub fn send(kind: Kind, values: &[f32], out: &mut Vec<u8>) {
    out.reserve(4 + values.len() * 4);
    out.extend_from_slice(&(values.len() as i16).to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for v in values {
        match kind {
            Kind::Vector => out.extend_from_slice(&v.to_be_bytes()),
            Kind::Halfvec => out.extend_from_slice(&f16::from_f32(*v).to_bits().to_be_bytes()),
        }
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
    recv(Kind::Vector, bytes)
}

/// Reads the binary form of a vector of `kind`.
pub fn recv(kind: Kind, bytes: &[u8]) -> Result<Vec<f32>, RecvError> {
    let header = bytes.get(..4).ok_or(RecvError::Short)?;
    let dims = i16::from_be_bytes([header[0], header[1]]);
    let unused = i16::from_be_bytes([header[2], header[3]]);
    check_kind_dims(kind, dims.max(0) as usize, None)?;
    if unused != 0 {
        return Err(RecvError::Unused(unused));
    }
    let body = &bytes[4..];
    let width = if kind == Kind::Halfvec { 2 } else { 4 };
    let need = dims as usize * width;
    if body.len() < need {
        return Err(RecvError::Short);
    }
    if body.len() > need {
        return Err(RecvError::Trailing);
    }
    body.chunks_exact(width)
        .map(|c| {
            let v = match kind {
                Kind::Vector => f32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                Kind::Halfvec => f16::from_bits(u16::from_be_bytes([c[0], c[1]])).to_f32(),
            };
            check_kind_element(kind, v).map_err(RecvError::from)
        })
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
    fn halfvec_round_trips() {
        let mut out = Vec::new();
        send(Kind::Halfvec, &[1.0, -2.5], &mut out);
        assert_eq!(out, [0, 2, 0, 0, 0x3c, 0x00, 0xc1, 0x00]);
        assert_eq!(recv(Kind::Halfvec, &out).unwrap(), vec![1.0, -2.5]);
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
