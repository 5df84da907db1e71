//! Reading and building Arrow arrays of vectors without per-row allocation.
//!
//! A `vector(n)` column is a fixed-size list of float32; a `vector` without a dimension (and
//! every value whose dimension is only known at run time) a large list of float32; `real[]`
//! arguments are plain lists. Text arguments (`'[1,2,3]'` left untyped by the planner) are parsed once per call.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, FixedSizeListArray, Float16Array, Float32Array, LargeListArray};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Float32Type};
use half::f16;
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;

use super::error::VectorError;
use super::text::parse_vector;
use super::{Kind, vector_item};

/// The rows of one vector argument: an array, or one value broadcast to every row. `halfvec`
/// arrays are widened to float32 once per batch.
pub struct Rows {
    array: ArrayRef,
    scalar: bool,
    kind: Kind,
    /// The elements of all rows, and where each row starts: found once, not per row.
    values: ScalarBuffer<f32>,
    layout: Layout,
    nulls: Option<NullBuffer>,
}

/// Where row `i`'s elements are in `values`.
enum Layout {
    Fixed(usize),
    Offsets(Vec<usize>),
}

impl Rows {
    /// Views a function argument as vectors (fixed or variable lists of float32, or text).
    pub fn new(arg: &ColumnarValue) -> Result<Self> {
        let (array, scalar) = match arg {
            ColumnarValue::Array(a) => (a.clone(), false),
            ColumnarValue::Scalar(s) => (s.to_array_of_size(1)?, true),
        };
        let kind = Kind::of(array.data_type()).unwrap_or(Kind::Vector);
        let array = match array.data_type() {
            DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) if f.data_type() == &DataType::Float32 => array,
            DataType::FixedSizeList(f, n) if f.data_type() == &DataType::Float16 => {
                arrow::compute::cast(&array, &DataType::FixedSizeList(vector_item(), *n))?
            }
            DataType::LargeList(f) if f.data_type() == &DataType::Float16 => arrow::compute::cast(&array, &DataType::LargeList(vector_item()))?,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => parse_text(&array)?,
            DataType::Null => Arc::new(LargeListArray::new_null(vector_item(), array.len())),
            other => return exec_err!("expected a vector, got {other}"),
        };
        let (values, layout) = match array.data_type() {
            DataType::FixedSizeList(_, n) => (values(array.as_fixed_size_list().values()), Layout::Fixed(*n as usize)),
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                (values(list.values()), Layout::Offsets(list.value_offsets().iter().map(|o| *o as usize).collect()))
            }
            _ => {
                let list = array.as_list::<i32>();
                (values(list.values()), Layout::Offsets(list.value_offsets().iter().map(|o| *o as usize).collect()))
            }
        };
        let nulls = array.logical_nulls();
        Ok(Self { array, scalar, kind, values, layout, nulls })
    }

    /// `halfvec` for half-precision arguments, else `vector`.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Row `i` as a slice, `None` for NULL.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[f32]> {
        if self.is_null(i) {
            return None;
        }
        let i = if self.scalar { 0 } else { i };
        Some(match &self.layout {
            Layout::Fixed(n) => &self.values[i * n..(i + 1) * n],
            Layout::Offsets(o) => &self.values[o[i]..o[i + 1]],
        })
    }

    /// Whether every row is the same single value.
    pub fn is_scalar(&self) -> bool {
        self.scalar
    }

    /// All rows' elements and the row length, when every row has the same length (rows that are
    /// NULL hold zeros or leftovers).
    pub fn fixed_values(&self) -> Option<(&[f32], usize)> {
        match &self.layout {
            Layout::Fixed(n) if !self.scalar => Some((&self.values, *n)),
            _ => None,
        }
    }

    #[inline]
    pub fn is_null(&self, i: usize) -> bool {
        let i = if self.scalar { 0 } else { i };
        self.nulls.as_ref().is_some_and(|n| n.is_null(i))
    }

    /// The fixed dimension, when the argument's type has one.
    pub fn fixed_dims(&self) -> Option<usize> {
        match self.array.data_type() {
            DataType::FixedSizeList(_, n) => Some(*n as usize),
            _ => None,
        }
    }
}

fn values(a: &ArrayRef) -> ScalarBuffer<f32> {
    a.as_primitive::<Float32Type>().values().clone()
}

fn parse_text(array: &ArrayRef) -> Result<ArrayRef> {
    let text = arrow::compute::cast(array, &DataType::Utf8)?;
    let mut out = Builder::new(Kind::Vector, None, text.len());
    for v in text.as_string::<i32>().iter() {
        match v {
            Some(t) => out.push(&parse_vector(t, None)?),
            None => out.push_null(),
        }
    }
    out.finish()
}

/// Builds a vector array row by row: fixed-size when every row has `dims` elements. Values are
/// float32; a `halfvec` result is narrowed at the end (an element too large is an overflow).
pub struct Builder {
    kind: Kind,
    dims: Option<usize>,
    values: Vec<f32>,
    offsets: Vec<i64>,
    valid: Vec<bool>,
}

impl Builder {
    pub fn new(kind: Kind, dims: Option<usize>, rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self { kind, dims, values: Vec::with_capacity(rows * dims.unwrap_or(4)), offsets, valid: Vec::with_capacity(rows) }
    }

    pub fn push(&mut self, v: &[f32]) {
        self.values.extend_from_slice(v);
        self.offsets.push(self.values.len() as i64);
        self.valid.push(true);
    }

    pub fn push_null(&mut self) {
        if let Some(n) = self.dims {
            self.values.extend(std::iter::repeat_n(0.0, n));
        }
        self.offsets.push(self.values.len() as i64);
        self.valid.push(false);
    }

    /// Appends one row computed in place, avoiding a temporary vector.
    pub fn push_with(&mut self, len: usize, fill: impl FnOnce(&mut [f32]) -> Result<()>) -> Result<()> {
        let start = self.values.len();
        self.values.resize(start + len, 0.0);
        fill(&mut self.values[start..])?;
        self.offsets.push(self.values.len() as i64);
        self.valid.push(true);
        Ok(())
    }

    pub fn finish(self) -> Result<ArrayRef> {
        let nulls = if self.valid.iter().all(|v| *v) { None } else { Some(NullBuffer::from(self.valid)) };
        let values: ArrayRef = match self.kind {
            Kind::Vector => Arc::new(Float32Array::new(ScalarBuffer::from(self.values), None)),
            Kind::Halfvec => {
                let mut half = Vec::with_capacity(self.values.len());
                for v in &self.values {
                    let h = f16::from_f32(*v);
                    if h.is_infinite() && v.is_finite() {
                        return Err(VectorError::Overflow.into());
                    }
                    half.push(h);
                }
                Arc::new(Float16Array::new(ScalarBuffer::from(half), None))
            }
        };
        let item = self.kind.item();
        Ok(match self.dims {
            Some(n) => Arc::new(FixedSizeListArray::try_new(item, n as i32, values, nulls)?),
            None => Arc::new(LargeListArray::try_new(item, OffsetBuffer::new(ScalarBuffer::from(self.offsets)), values, nulls)?),
        })
    }
}

pub use crate::functions::output;
