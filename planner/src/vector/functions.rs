//! pgvector's scalar functions on `vector`, and the functions its operators are planned as:
//! `<->` l2_distance, `<#>` vector_negative_inner_product, `<=>` cosine_distance, `<+>`
//! l1_distance, `+` vector_add, `-` vector_sub, `*` vector_mul, `||` vector_concat.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array};
use arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::array::{Builder, Rows, output};
use super::error::VectorError;
use super::sparse::{self, is_sparse_type, sparse_type};
use super::{Kind, VECTOR_MAX_DIM, distance, is_vector_like};

/// What a function computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    L2,
    InnerProduct,
    NegativeInnerProduct,
    Cosine,
    L1,
    Dims,
    Norm,
    Normalize,
    Subvector,
    Add,
    Sub,
    Mul,
    Concat,
}

impl Op {
    /// Number of vector arguments, then of integer ones.
    fn arity(self) -> (usize, usize) {
        match self {
            Op::Dims | Op::Norm | Op::Normalize => (1, 0),
            Op::Subvector => (1, 2),
            _ => (2, 0),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VectorFunction {
    name: &'static str,
    op: Op,
    signature: Signature,
}

/// Every scalar vector function, under pgvector's names (and QuartzDB's names for operators).
pub fn all() -> Vec<ScalarUDF> {
    let f = |name, op| ScalarUDF::new_from_impl(VectorFunction { name, op, signature: Signature::user_defined(Volatility::Immutable) });
    vec![
        f("l2_distance", Op::L2),
        f("inner_product", Op::InnerProduct),
        f("vector_negative_inner_product", Op::NegativeInnerProduct),
        f("cosine_distance", Op::Cosine),
        f("l1_distance", Op::L1),
        f("vector_dims", Op::Dims),
        f("vector_norm", Op::Norm),
        f("l2_norm", Op::Norm),
        f("l2_normalize", Op::Normalize),
        f("subvector", Op::Subvector),
        f("vector_add", Op::Add),
        f("vector_sub", Op::Sub),
        f("vector_mul", Op::Mul),
        f("vector_concat", Op::Concat),
    ]
}

/// The function an operator is planned as, if it is one of pgvector's.
pub fn operator_function(op: &str) -> Option<&'static str> {
    Some(match op {
        "<->" => "l2_distance",
        "<#>" => "vector_negative_inner_product",
        "<=>" => "cosine_distance",
        "<+>" => "l1_distance",
        "<~>" => "hamming_distance",
        "<%>" => "jaccard_distance",
        "+" => "vector_add",
        "-" => "vector_sub",
        "*" => "vector_mul",
        "||" => "vector_concat",
        _ => return None,
    })
}

fn fixed(t: &DataType) -> Option<usize> {
    match t {
        DataType::FixedSizeList(_, n) => Some(*n as usize),
        _ => None,
    }
}

impl ScalarUDFImpl for VectorFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let (vectors, ints) = self.op.arity();
        // sparsevec has the distances, l2_norm and l2_normalize.
        let sparse_ok = matches!(self.op, Op::L2 | Op::InnerProduct | Op::NegativeInnerProduct | Op::Cosine | Op::L1 | Op::Norm | Op::Normalize);
        let ok = args.len() == vectors + ints
            && args[..vectors].iter().all(|t| is_vector_like(t) || (sparse_ok && is_sparse_type(t)))
            && args[vectors..].iter().all(|t| t.is_integer() || t == &DataType::Null);
        if !ok {
            return Err(crate::Error::no_such_function(self.name, args).into());
        }
        let mut out = args[..vectors].to_vec();
        out.extend(std::iter::repeat_n(DataType::Int32, ints));
        Ok(out)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if self.op == Op::Normalize && args.iter().any(is_sparse_type) {
            return Ok(sparse_type());
        }
        let kind = args.iter().find_map(Kind::of).unwrap_or(Kind::Vector);
        Ok(match self.op {
            Op::L2 | Op::InnerProduct | Op::NegativeInnerProduct | Op::Cosine | Op::L1 | Op::Norm => DataType::Float64,
            Op::Dims => DataType::Int32,
            Op::Normalize => kind.data_type(fixed(&args[0])),
            Op::Subvector => kind.data_type(None),
            Op::Add | Op::Sub | Op::Mul => match (fixed(&args[0]), fixed(&args[1])) {
                (Some(a), Some(b)) if a == b => kind.data_type(Some(a)),
                _ => kind.data_type(None),
            },
            Op::Concat => match (fixed(&args[0]), fixed(&args[1])) {
                (Some(a), Some(b)) if a + b <= VECTOR_MAX_DIM => kind.data_type(Some(a + b)),
                _ => kind.data_type(None),
            },
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { rows };
        let (vectors, _) = self.op.arity();
        if args.arg_fields[..vectors].iter().any(|f| is_sparse_type(f.data_type())) {
            return output(sparse_op(self.op, &args.args[..vectors], n)?, scalar);
        }
        let v: Vec<Rows> = args.args[..vectors].iter().map(Rows::new).collect::<Result<_>>()?;
        let out_fixed = fixed(args.return_field.data_type());
        let kind = args.arg_fields[..vectors].iter().find_map(|f| Kind::of(f.data_type())).unwrap_or(Kind::Vector);
        let array: ArrayRef = match self.op {
            Op::L2 | Op::InnerProduct | Op::NegativeInnerProduct | Op::Cosine | Op::L1 => Arc::new(distances(self.op, kind, &v[0], &v[1], n)?),
            Op::Dims => Arc::new((0..n).map(|i| v[0].get(i).map(|a| a.len() as i32)).collect::<Int32Array>()),
            Op::Norm => Arc::new((0..n).map(|i| v[0].get(i).map(distance::norm)).collect::<Float64Array>()),
            Op::Normalize => normalize(kind, &v[0], n, out_fixed)?,
            Op::Subvector => subvector(kind, &v[0], &args.args[1], &args.args[2], n)?,
            Op::Add | Op::Sub | Op::Mul | Op::Concat => elementwise(self.op, kind, &v[0], &v[1], n, out_fixed)?,
        };
        output(array, scalar)
    }
}

/// The functions on `sparsevec` (its arguments may also be text to parse).
fn sparse_op(op: Op, args: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let a = sparse::rows_of(&args[0], n)?;
    Ok(match op {
        Op::Norm => Arc::new(a.iter().map(|x| x.as_ref().map(sparse::norm)).collect::<Float64Array>()),
        Op::Normalize => sparse::build(a.iter().map(|x| x.as_ref().map(sparse::normalize)))?,
        _ => {
            let b = sparse::rows_of(&args[1], n)?;
            let metric = match op {
                Op::L2 => "l2",
                Op::InnerProduct => "ip",
                Op::NegativeInnerProduct => "nip",
                Op::L1 => "l1",
                _ => "cosine",
            };
            let mut out = Vec::with_capacity(n);
            for (x, y) in a.iter().zip(&b) {
                out.push(match (x, y) {
                    (Some(x), Some(y)) => Some(sparse::distance(metric, x, y)?),
                    _ => None,
                });
            }
            Arc::new(Float64Array::from(out))
        }
    })
}

fn same_dims(kind: Kind, a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() != b.len() {
        return Err(VectorError::DifferentDims { ty: kind.name(), a: a.len(), b: b.len() }.into());
    }
    Ok(())
}

/// One distance per row. A constant query's norm is computed once for cosine.
fn distances(op: Op, kind: Kind, a: &Rows, b: &Rows, n: usize) -> Result<Float64Array> {
    let query_norm = match (op, b.is_scalar(), b.get(0)) {
        (Op::Cosine, true, Some(q)) => Some(distance::inner(q, q)),
        _ => None,
    };
    let mut out = Vec::with_capacity(n);
    let mut nulls = Vec::new();
    for i in 0..n {
        let (Some(x), Some(y)) = (a.get(i), b.get(i)) else {
            if nulls.is_empty() {
                nulls = vec![true; n];
            }
            nulls[i] = false;
            out.push(0.0);
            continue;
        };
        same_dims(kind, x, y)?;
        out.push(pair_distance(op, x, y, query_norm));
    }
    let nulls = if nulls.is_empty() { None } else { Some(nulls.into()) };
    Ok(Float64Array::new(out.into(), nulls))
}

/// The distance `op` between two vectors of equal length; `y_norm` is `y·y` when known.
#[inline]
fn pair_distance(op: Op, x: &[f32], y: &[f32], y_norm: Option<f32>) -> f64 {
    match op {
        Op::L2 => (distance::l2_squared(x, y) as f64).sqrt(),
        Op::InnerProduct => distance::inner(x, y) as f64,
        Op::NegativeInnerProduct => -(distance::inner(x, y) as f64),
        Op::Cosine => match y_norm {
            Some(yy) => distance::cosine_with_norm(x, y, yy),
            None => distance::cosine(x, y),
        },
        _ => distance::l1(x, y) as f64,
    }
}

/// A call of one of the distance functions with a constant query, computed row by row outside
/// DataFusion's expression evaluation (the exact top-k); its values are the function's own.
#[derive(Debug)]
pub struct QueryDistance {
    op: Op,
    kind: Kind,
    query: Vec<f32>,
    query_norm: Option<f32>,
}

impl QueryDistance {
    /// `udf(column, query)` or `udf(query, column)` (the distances are symmetric), when `udf` is
    /// a distance of dense vectors and `query` a non-NULL vector constant.
    pub fn of(udf: &ScalarUDF, column_type: &DataType, query: &ScalarValue) -> Option<Self> {
        let f = udf.inner().downcast_ref::<VectorFunction>()?;
        if !matches!(f.op, Op::L2 | Op::InnerProduct | Op::NegativeInnerProduct | Op::Cosine | Op::L1) {
            return None;
        }
        let kind = Kind::of(column_type)?;
        if !is_vector_like(&query.data_type()) || query.is_null() {
            return None;
        }
        let query = Rows::new(&ColumnarValue::Scalar(query.clone())).ok()?.get(0)?.to_vec();
        let query_norm = (f.op == Op::Cosine).then(|| distance::inner(&query, &query));
        Some(Self { op: f.op, kind, query, query_norm })
    }

    /// The function's name, for EXPLAIN.
    pub fn name(&self) -> &'static str {
        match self.op {
            Op::L2 => "l2_distance",
            Op::InnerProduct => "inner_product",
            Op::NegativeInnerProduct => "vector_negative_inner_product",
            Op::Cosine => "cosine_distance",
            _ => "l1_distance",
        }
    }

    pub fn dims(&self) -> usize {
        self.query.len()
    }

    /// The distance of one row, with the function's error for a dimension mismatch.
    #[inline]
    pub fn of_row(&self, x: &[f32]) -> Result<f64> {
        same_dims(self.kind, x, &self.query)?;
        Ok(pair_distance(self.op, x, &self.query, self.query_norm))
    }

    /// The distance of each row in the half-open `ranges` (all rows, or a filter's
    /// selection) into `out`, one after the other (anything for NULL rows): through the batch
    /// kernels for L2 and inner products when the rows are of one length; row by row for
    /// cosine (its two dot products then read the row once from memory) and L1. `scratch` is
    /// reused between calls.
    pub fn of_ranges(&self, rows: &Rows, ranges: &[(usize, usize)], out: &mut Vec<f64>, scratch: &mut Vec<f32>) -> Result<()> {
        out.clear();
        let q = &self.query[..];
        match rows.fixed_values() {
            Some((values, dims)) if dims == q.len() && matches!(self.op, Op::L2 | Op::InnerProduct | Op::NegativeInnerProduct) => {
                for &(start, end) in ranges {
                    let values = &values[start * dims..end * dims];
                    scratch.clear();
                    scratch.resize(end - start, 0.0);
                    if self.op == Op::L2 {
                        distance::l2_squared_rows(q, values, scratch);
                        out.extend(scratch.iter().map(|d| (*d as f64).sqrt()));
                    } else {
                        distance::inner_rows(q, values, scratch);
                        let sign = if self.op == Op::InnerProduct { 1.0 } else { -1.0 };
                        out.extend(scratch.iter().map(|d| sign * *d as f64));
                    }
                }
            }
            _ => {
                for &(start, end) in ranges {
                    for i in start..end {
                        out.push(match rows.get(i) {
                            Some(x) => self.of_row(x)?,
                            None => 0.0,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn normalize(kind: Kind, a: &Rows, n: usize, fixed: Option<usize>) -> Result<ArrayRef> {
    let mut out = Builder::new(kind, fixed, n);
    for i in 0..n {
        let Some(x) = a.get(i) else {
            out.push_null();
            continue;
        };
        let norm = distance::norm(x);
        out.push_with(x.len(), |r| {
            for (r, v) in r.iter_mut().zip(x) {
                *r = if norm > 0.0 { (*v as f64 / norm) as f32 } else { *v };
                if r.is_infinite() {
                    return Err(VectorError::Overflow.into());
                }
            }
            Ok(())
        })?;
    }
    out.finish()
}

fn int_arg(arg: &ColumnarValue, i: usize) -> Result<Option<i32>> {
    let v = match arg {
        ColumnarValue::Scalar(s) => s.clone(),
        ColumnarValue::Array(a) => ScalarValue::try_from_array(a, i)?,
    };
    match v {
        ScalarValue::Int32(v) => Ok(v),
        ScalarValue::Null => Ok(None),
        other => exec_err!("expected an integer, got {other:?}"),
    }
}

/// `subvector(v, start, count)`: elements from 1-based `start`, clipped to the vector.
fn subvector(kind: Kind, a: &Rows, start: &ColumnarValue, count: &ColumnarValue, n: usize) -> Result<ArrayRef> {
    let empty = || -> datafusion::error::DataFusionError { VectorError::Empty { ty: kind.name() }.into() };
    let mut out = Builder::new(kind, None, n);
    for i in 0..n {
        let (Some(x), Some(start), Some(count)) = (a.get(i), int_arg(start, i)?, int_arg(count, i)?) else {
            out.push_null();
            continue;
        };
        let dim = x.len() as i64;
        let (start, count) = (start as i64, count as i64);
        if count < 1 {
            return Err(empty());
        }
        let end = if start > dim - count { dim + 1 } else { start + count };
        let start = if start < 1 {
            1
        } else if start > dim {
            return Err(empty());
        } else {
            start
        };
        if end - start < 1 {
            return Err(empty());
        }
        out.push(&x[(start - 1) as usize..(end - 1) as usize]);
    }
    out.finish()
}

/// `+ - *` element by element (float32 overflow is an error, as in pgvector) and `||`.
fn elementwise(op: Op, kind: Kind, a: &Rows, b: &Rows, n: usize, fixed: Option<usize>) -> Result<ArrayRef> {
    let mut out = Builder::new(kind, fixed, n);
    for i in 0..n {
        let (Some(x), Some(y)) = (a.get(i), b.get(i)) else {
            out.push_null();
            continue;
        };
        if op == Op::Concat {
            if x.len() + y.len() > VECTOR_MAX_DIM {
                return Err(VectorError::TooManyDims { ty: kind.name(), max: VECTOR_MAX_DIM }.into());
            }
            out.push_with(x.len() + y.len(), |r| {
                r[..x.len()].copy_from_slice(x);
                r[x.len()..].copy_from_slice(y);
                Ok(())
            })?;
            continue;
        }
        same_dims(kind, x, y)?;
        out.push_with(x.len(), |r| {
            for ((r, p), q) in r.iter_mut().zip(x).zip(y) {
                *r = match op {
                    Op::Add => p + q,
                    Op::Sub => p - q,
                    _ => p * q,
                };
                if r.is_infinite() {
                    return Err(VectorError::Overflow.into());
                }
                if op == Op::Mul && *r == 0.0 && *p != 0.0 && *q != 0.0 {
                    return Err(VectorError::Underflow.into());
                }
            }
            Ok(())
        })?;
    }
    out.finish()
}
