//! pgvector's text form: `[1,2,3]`, whitespace allowed around elements, elements read like
//! `real` (so `1e3`, `-0.5`, `.5` work), at least one element, no NaN or infinity. `halfvec`
//! has the same form; its elements must also fit float16.

use half::f16;

use super::error::VectorError;
use super::{Kind, VECTOR_MAX_DIM};
use crate::float_text::pg_float4;

/// Parses `text` as a vector; `expected` is the column's dimension (`vector(3)`), if any.
pub fn parse_vector(text: &str, expected: Option<usize>) -> Result<Vec<f32>, VectorError> {
    parse(Kind::Vector, text, expected)
}

/// Parses `text` as a vector of `kind`. Half-precision elements come back rounded to float16.
pub fn parse(kind: Kind, text: &str, expected: Option<usize>) -> Result<Vec<f32>, VectorError> {
    let ty = kind.name();
    let invalid = || VectorError::InvalidInput { ty, text: text.to_string() };
    let rest = text.trim_start_matches(is_space);
    let mut rest = rest.strip_prefix('[').ok_or_else(invalid)?.trim_start_matches(is_space);
    if rest.starts_with(']') {
        return Err(VectorError::Empty { ty });
    }
    let mut out = Vec::new();
    loop {
        if out.len() == VECTOR_MAX_DIM {
            return Err(VectorError::TooManyDims { ty, max: VECTOR_MAX_DIM });
        }
        rest = rest.trim_start_matches(is_space);
        let end = rest.find(|c: char| c == ',' || c == ']' || is_space(c)).unwrap_or(rest.len());
        let token = &rest[..end];
        let v = element(token, ty).ok_or_else(invalid)??;
        out.push(match kind {
            Kind::Vector => v,
            Kind::Halfvec => {
                let h = f16::from_f32(v).to_f32();
                if h.is_infinite() {
                    return Err(VectorError::OutOfRange { ty, text: token.to_string() });
                }
                h
            }
        });
        rest = rest[end..].trim_start_matches(is_space);
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix(']') {
            rest = r;
            break;
        } else {
            return Err(invalid());
        }
    }
    if !rest.trim_start_matches(is_space).is_empty() {
        return Err(invalid());
    }
    check_kind_dims(kind, out.len(), expected)?;
    Ok(out)
}

/// pgvector's isspace: the C locale's whitespace.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Reads one element as `strtof` would: `None` when it is not a number at all, an error when it
/// is a number a vector cannot hold.
fn element(token: &str, ty: &'static str) -> Option<Result<f32, VectorError>> {
    let v: f32 = token.parse().ok()?;
    let lower = token.trim_start_matches(['+', '-']).to_ascii_lowercase();
    let spelled_infinite = lower == "inf" || lower == "infinity";
    Some(if v.is_nan() {
        Err(VectorError::NaN { ty })
    } else if v.is_infinite() && spelled_infinite {
        Err(VectorError::Infinite { ty })
    } else if v.is_infinite() {
        Err(VectorError::OutOfRange { ty, text: token.to_string() })
    } else {
        Ok(v)
    })
}

/// Checks a vector's dimension count against pgvector's limits and the column's dimension.
pub fn check_dims(dims: usize, expected: Option<usize>) -> Result<(), VectorError> {
    check_kind_dims(Kind::Vector, dims, expected)
}

/// [`check_dims`] for either kind (the messages name the type).
pub fn check_kind_dims(kind: Kind, dims: usize, expected: Option<usize>) -> Result<(), VectorError> {
    let ty = kind.name();
    if dims < 1 {
        return Err(VectorError::Empty { ty });
    }
    if dims > VECTOR_MAX_DIM {
        return Err(VectorError::TooManyDims { ty, max: VECTOR_MAX_DIM });
    }
    match expected {
        Some(expected) if expected != dims => Err(VectorError::ExpectedDims { expected, actual: dims }),
        _ => Ok(()),
    }
}

/// Checks one element: vectors hold finite values only.
pub fn check_element(v: f32) -> Result<f32, VectorError> {
    check_kind_element(Kind::Vector, v)
}

/// [`check_element`] for either kind; a halfvec element is rounded to float16 first.
pub fn check_kind_element(kind: Kind, v: f32) -> Result<f32, VectorError> {
    let ty = kind.name();
    let v = match kind {
        Kind::Vector => v,
        Kind::Halfvec => {
            let h = f16::from_f32(v).to_f32();
            if h.is_infinite() && v.is_finite() {
                return Err(VectorError::OutOfRange { ty, text: pg_float4(v) });
            }
            h
        }
    };
    if v.is_nan() {
        Err(VectorError::NaN { ty })
    } else if v.is_infinite() {
        Err(VectorError::Infinite { ty })
    } else {
        Ok(v)
    }
}

/// Formats a vector as pgvector prints it: `[1,2.5,1e-07]`.
pub fn format_vector(values: &[f32]) -> String {
    let mut out = String::with_capacity(values.len() * 8 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&pg_float4(*v));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::VECTOR;

    #[test]
    fn parses_like_pgvector() {
        assert_eq!(parse_vector("[1,2,3]", None).unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(parse_vector(" [ 1 , -2.5 ,3e2 ] ", None).unwrap(), vec![1.0, -2.5, 300.0]);
        assert_eq!(parse_vector("[1,2]", Some(2)).unwrap(), vec![1.0, 2.0]);
    }

    #[test]
    fn rejects_what_pgvector_rejects() {
        let bad = |t: &str| parse_vector(t, None).unwrap_err();
        assert!(matches!(bad("[1,,3]"), VectorError::InvalidInput { .. }));
        assert!(matches!(bad("1,2"), VectorError::InvalidInput { .. }));
        assert!(matches!(bad("[1,2"), VectorError::InvalidInput { .. }));
        assert!(matches!(bad("[1,2] x"), VectorError::InvalidInput { .. }));
        assert!(matches!(bad(""), VectorError::InvalidInput { .. }));
        assert_eq!(bad("[]"), VectorError::Empty { ty: VECTOR });
        assert_eq!(bad("[NaN]"), VectorError::NaN { ty: VECTOR });
        assert_eq!(bad("[-Infinity]"), VectorError::Infinite { ty: VECTOR });
        assert!(matches!(bad("[1e39]"), VectorError::OutOfRange { .. }));
        assert_eq!(parse_vector("[1,2]", Some(3)).unwrap_err(), VectorError::ExpectedDims { expected: 3, actual: 2 });
        let long = format!("[{}]", vec!["1"; VECTOR_MAX_DIM + 1].join(","));
        assert!(matches!(bad(&long), VectorError::TooManyDims { .. }));
    }

    #[test]
    fn halfvec_elements_are_float16() {
        assert_eq!(parse(Kind::Halfvec, "[0.1,65504]", None).unwrap(), vec![f16::from_f32(0.1).to_f32(), 65504.0]);
        assert!(matches!(parse(Kind::Halfvec, "[65520]", None), Err(VectorError::OutOfRange { ty: "halfvec", .. })));
        assert_eq!(parse(Kind::Halfvec, "[]", None).unwrap_err(), VectorError::Empty { ty: "halfvec" });
    }

    #[test]
    fn formats_like_pgvector() {
        assert_eq!(format_vector(&[1.0, 2.5, -3.0]), "[1,2.5,-3]");
        assert_eq!(format_vector(&[1e-7, 1234567.0]), "[1e-07,1.234567e+06]");
    }
}
