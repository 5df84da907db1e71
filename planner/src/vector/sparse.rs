//! pgvector's `sparsevec`: `{1:1.5,3:2}/5` (1-based indices, zero elements left out), up to a
//! billion dimensions and 16,000 non-zero elements.
//!
//! A sparse vector is an Arrow struct with one binary field, `sparsevec`, holding pgvector's own
//! binary form (dimension, count, 0-based ascending indices, values); the struct shape alone
//! marks the type. (A struct of lists would be more natural, but DataFusion 54 mis-compares
//! such constants in sort keys.) Distances merge the two index lists, summing in float4 as
//! pgvector does.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, StructArray};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;

use super::error::VectorError;
use crate::float_text::pg_float4;

pub const SPARSEVEC: &str = "sparsevec";
pub const SPARSEVEC_MAX_DIM: usize = 1_000_000_000;
pub const SPARSEVEC_MAX_NNZ: usize = 16_000;

fn fields() -> Fields {
    Fields::from(vec![Field::new(SPARSEVEC, DataType::Binary, false)])
}

/// The Arrow type of every sparse vector.
pub fn sparse_type() -> DataType {
    DataType::Struct(fields())
}

pub fn is_sparse_type(t: &DataType) -> bool {
    matches!(t, DataType::Struct(f) if f == &fields())
}

/// The field a cast to `sparsevec(n)` targets, carrying `n` for the cast rule.
pub fn cast_field(dims: Option<u64>) -> FieldRef {
    let mut metadata = std::collections::HashMap::from([(crate::types::PG_TYPE_METADATA.to_string(), SPARSEVEC.to_string())]);
    if let Some(n) = dims {
        metadata.insert(super::bit::TYPMOD_METADATA.to_string(), n.to_string());
    }
    Arc::new(Field::new("", sparse_type(), true).with_metadata(metadata))
}

/// One sparse vector: its dimension and its non-zero elements (0-based, ascending).
#[derive(Debug, Clone, PartialEq)]
pub struct Sparse {
    pub dim: usize,
    pub indices: Vec<i32>,
    pub values: Vec<f32>,
}

fn check_dim(dim: i64, expected: Option<usize>) -> Result<usize, VectorError> {
    if dim < 1 {
        return Err(VectorError::Empty { ty: SPARSEVEC });
    }
    if dim as usize > SPARSEVEC_MAX_DIM {
        return Err(VectorError::TooManyDims { ty: SPARSEVEC, max: SPARSEVEC_MAX_DIM });
    }
    match expected {
        Some(e) if e != dim as usize => Err(VectorError::ExpectedDims { expected: e, actual: dim as usize }),
        _ => Ok(dim as usize),
    }
}

impl Sparse {
    /// Builds from (1-based index, value) pairs: sorted, zeros dropped, checked.
    fn from_pairs(mut pairs: Vec<(i64, f32)>, dim: i64, expected: Option<usize>) -> Result<Sparse, VectorError> {
        let dim = check_dim(dim, expected)?;
        pairs.sort_by_key(|p| p.0);
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(VectorError::SparseDuplicate);
        }
        let mut out = Sparse { dim, indices: Vec::new(), values: Vec::new() };
        for (i, v) in pairs {
            if i < 1 || i as usize > dim {
                return Err(VectorError::SparseOutOfBounds);
            }
            let v = super::text::check_kind_element(super::Kind::Vector, v).map_err(|e| match e {
                VectorError::NaN { .. } => VectorError::NaN { ty: SPARSEVEC },
                VectorError::Infinite { .. } => VectorError::Infinite { ty: SPARSEVEC },
                other => other,
            })?;
            if v != 0.0 {
                out.indices.push((i - 1) as i32);
                out.values.push(v);
            }
        }
        if out.indices.len() > SPARSEVEC_MAX_NNZ {
            return Err(VectorError::TooManyNonZero { max: SPARSEVEC_MAX_NNZ });
        }
        Ok(out)
    }

    /// Parses `{1:1.5,3:2}/5`.
    pub fn parse(text: &str, expected: Option<usize>) -> Result<Sparse, VectorError> {
        let invalid = || VectorError::InvalidInput { ty: SPARSEVEC, text: text.to_string() };
        let space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
        let rest = text.trim_start_matches(space).strip_prefix('{').ok_or_else(invalid)?;
        let (body, tail) = rest.split_once('}').ok_or_else(invalid)?;
        let dim = tail.trim_matches(space).strip_prefix('/').ok_or_else(invalid)?.trim_matches(space);
        let dim: i64 = dim.parse().map_err(|_| invalid())?;
        let mut pairs = Vec::new();
        if !body.trim_matches(space).is_empty() {
            for pair in body.split(',') {
                let (i, v) = pair.split_once(':').ok_or_else(invalid)?;
                let i: i64 = i.trim_matches(space).parse().map_err(|_| invalid())?;
                let v: f32 = v.trim_matches(space).parse().map_err(|_| invalid())?;
                pairs.push((i, v));
            }
        }
        Sparse::from_pairs(pairs, dim, expected)
    }

    pub fn format(&self) -> String {
        let pairs: Vec<String> = self.indices.iter().zip(&self.values).map(|(i, v)| format!("{}:{}", i + 1, pg_float4(*v))).collect();
        format!("{{{}}}/{}", pairs.join(","), self.dim)
    }

    /// pgvector's binary form: int32 dim, int32 nnz, int32 zero, indices (0-based), values.
    pub fn send(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.dim as i32).to_be_bytes());
        out.extend_from_slice(&(self.indices.len() as i32).to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        self.indices.iter().for_each(|i| out.extend_from_slice(&i.to_be_bytes()));
        self.values.iter().for_each(|v| out.extend_from_slice(&v.to_be_bytes()));
    }

    pub fn recv(bytes: &[u8]) -> Result<Sparse, VectorError> {
        let word = |k: usize| bytes.get(k * 4..k * 4 + 4).map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")));
        let short = || VectorError::InvalidInput { ty: SPARSEVEC, text: "(binary)".into() };
        let (dim, nnz, unused) = (word(0).ok_or_else(short)?, word(1).ok_or_else(short)?, word(2).ok_or_else(short)?);
        if unused != 0 || nnz < 0 || bytes.len() != 12 + nnz as usize * 8 {
            return Err(short());
        }
        let n = nnz as usize;
        let pairs = (0..n)
            .map(|k| (word(3 + k).expect("length checked") as i64 + 1, f32::from_bits(word(3 + n + k).expect("length checked") as u32)))
            .collect();
        Sparse::from_pairs(pairs, dim as i64, None)
    }

    /// The dense elements (for casts to vector and halfvec).
    pub fn dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.dim];
        for (i, v) in self.indices.iter().zip(&self.values) {
            out[*i as usize] = *v;
        }
        out
    }

    /// From dense elements (casts from vector, halfvec and arrays).
    pub fn from_dense(values: &[f32], expected: Option<usize>) -> Result<Sparse, VectorError> {
        let pairs = values.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(i, v)| (i as i64 + 1, *v)).collect();
        Sparse::from_pairs(pairs, values.len() as i64, expected)
    }

    /// With a dimension check against `expected` (a cast to `sparsevec(n)`).
    pub fn checked(self, expected: Option<usize>) -> Result<Sparse, VectorError> {
        check_dim(self.dim as i64, expected)?;
        Ok(self)
    }
}

/// Reads row `i` of a sparse-vector array.
pub fn get(array: &StructArray, i: usize) -> Option<Sparse> {
    if array.is_null(i) {
        return None;
    }
    Sparse::recv(array.column(0).as_binary::<i32>().value(i)).ok()
}

/// Builds a sparse-vector array.
pub fn build(rows: impl IntoIterator<Item = Option<Sparse>>) -> Result<ArrayRef> {
    let mut data = BinaryBuilder::new();
    let mut valid = Vec::new();
    let mut buf = Vec::new();
    for row in rows {
        buf.clear();
        if let Some(r) = &row {
            r.send(&mut buf);
        }
        data.append_value(&buf);
        valid.push(row.is_some());
    }
    let nulls = if valid.iter().all(|v| *v) { None } else { Some(valid.into()) };
    Ok(Arc::new(StructArray::try_new(fields(), vec![Arc::new(data.finish()) as ArrayRef], nulls)?))
}

/// Sparse vectors from an argument: a sparse array, or text to parse.
pub fn rows_of(arg: &ColumnarValue, n: usize) -> Result<Vec<Option<Sparse>>> {
    let array = arg.to_array(n)?;
    match array.data_type() {
        t if is_sparse_type(t) => Ok((0..n).map(|i| get(array.as_struct(), i)).collect()),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            let text = arrow::compute::cast(&array, &DataType::Utf8)?;
            text.as_string::<i32>().iter().map(|t| t.map(|t| Sparse::parse(t, None)).transpose().map_err(Into::into)).collect()
        }
        other => exec_err!("expected a sparsevec, got {other}"),
    }
}

/// The four distances between sparse vectors (pgvector's definitions), and `l2_norm`.
pub fn distance(metric: &str, a: &Sparse, b: &Sparse) -> Result<f64, VectorError> {
    if a.dim != b.dim {
        return Err(VectorError::DifferentDims { ty: SPARSEVEC, a: a.dim, b: b.dim });
    }
    let (mut diff2, mut dot, mut l1) = (0f32, 0f32, 0f32);
    let (mut i, mut j) = (0, 0);
    while i < a.indices.len() || j < b.indices.len() {
        let (ai, bj) = (a.indices.get(i).copied().unwrap_or(i32::MAX), b.indices.get(j).copied().unwrap_or(i32::MAX));
        let (x, y) = if ai == bj {
            i += 1;
            j += 1;
            (a.values[i - 1], b.values[j - 1])
        } else if ai < bj {
            i += 1;
            (a.values[i - 1], 0.0)
        } else {
            j += 1;
            (0.0, b.values[j - 1])
        };
        diff2 += (x - y) * (x - y);
        dot += x * y;
        l1 += (x - y).abs();
    }
    let norm2 = |s: &Sparse| s.values.iter().fold(0f32, |acc, v| acc + v * v);
    Ok(match metric {
        "l2" => (diff2 as f64).sqrt(),
        "ip" => dot as f64,
        "nip" => -(dot as f64),
        "l1" => l1 as f64,
        _ => {
            let similarity = dot as f64 / ((norm2(a) as f64) * (norm2(b) as f64)).sqrt();
            if similarity.is_nan() { f64::NAN } else { 1.0 - similarity.clamp(-1.0, 1.0) }
        }
    })
}

/// `l2_norm(sparsevec)`, summed in double precision.
pub fn norm(a: &Sparse) -> f64 {
    a.values.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>().sqrt()
}

/// `l2_normalize(sparsevec)`.
pub fn normalize(a: &Sparse) -> Sparse {
    let n = norm(a);
    if n == 0.0 {
        return a.clone();
    }
    Sparse { dim: a.dim, indices: a.indices.clone(), values: a.values.iter().map(|v| (*v as f64 / n) as f32).collect() }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_like_pgvector() {
        let s = Sparse::parse(" { 3:2 , 1:1 } / 5 ", None).unwrap();
        assert_eq!((s.dim, s.indices.clone(), s.values.clone()), (5, vec![0, 2], vec![1.0, 2.0]));
        assert_eq!(s.format(), "{1:1,3:2}/5");
        assert_eq!(Sparse::parse("{1:0,2:1.5}/3", None).unwrap().format(), "{2:1.5}/3");
        assert_eq!(Sparse::parse("{}/3", None).unwrap().format(), "{}/3");
        assert_eq!(Sparse::parse("{1:1,1:2}/3", None).unwrap_err(), VectorError::SparseDuplicate);
        assert_eq!(Sparse::parse("{4:1}/3", None).unwrap_err(), VectorError::SparseOutOfBounds);
        assert!(matches!(Sparse::parse("{1:1}", None), Err(VectorError::InvalidInput { .. })));
        let mut wire = Vec::new();
        s.send(&mut wire);
        assert_eq!(Sparse::recv(&wire).unwrap(), s);
    }

    #[test]
    fn distances_like_pgvector() {
        let a = Sparse::parse("{1:1,3:2}/5", None).unwrap();
        let b = Sparse::parse("{2:1}/5", None).unwrap();
        assert_eq!(distance("l2", &a, &b).unwrap(), 6f64.sqrt());
        assert_eq!(distance("l1", &a, &b).unwrap(), 4.0);
        assert_eq!(distance("nip", &a, &Sparse::parse("{3:1}/5", None).unwrap()).unwrap(), -2.0);
    }
}
