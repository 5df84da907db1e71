//! `avg(vector)` and `sum(vector)`. DataFusion's `avg` and `sum` are wrapped, not replaced: the
//! wrapper hands every non-vector call to the built-in, so numeric aggregates keep their
//! grouped (vectorized) accumulators, and only vector arguments use QuartzDB's accumulator.
//!
//! As in pgvector, `avg` sums in double precision and divides at the end, `sum` adds in single
//! precision (an overflow is an error); mixed dimensions are an error; no rows give NULL.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, GroupsAccumulator, ReversedUDAF, SetMonotonicity, Signature,
    Volatility,
};

use super::array::Rows;
use super::error::VectorError;
use super::{Kind, is_vector_type, vector_field};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Aggregate {
    Avg,
    Sum,
}

/// `avg` or `sum` for every type: vectors here, everything else by the wrapped built-in.
#[derive(Debug)]
pub struct VectorAware {
    inner: Arc<AggregateUDF>,
    kind: Aggregate,
    signature: Signature,
}

impl PartialEq for VectorAware {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}
impl Eq for VectorAware {}
impl std::hash::Hash for VectorAware {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state)
    }
}

/// The wrapped `avg` and `sum`, registered under the built-ins' names.
pub fn all() -> Vec<AggregateUDF> {
    let wrap = |inner: Arc<AggregateUDF>, kind| {
        AggregateUDF::new_from_impl(VectorAware { inner, kind, signature: Signature::user_defined(Volatility::Immutable) })
    };
    vec![
        wrap(datafusion::functions_aggregate::average::avg_udaf(), Aggregate::Avg),
        wrap(datafusion::functions_aggregate::sum::sum_udaf(), Aggregate::Sum),
    ]
}

fn is_vector_arg(fields: &[FieldRef]) -> bool {
    fields.len() == 1 && super::is_vector_field(&fields[0])
}

impl AggregateUDFImpl for VectorAware {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() == 1 && is_vector_type(&args[0]) {
            return Ok(args.to_vec());
        }
        let fields: Vec<FieldRef> = args.iter().map(|t| Arc::new(Field::new("", t.clone(), true))).collect();
        Ok(fields_with_udf(&fields, self.inner.as_ref())?.into_iter().map(|f| f.data_type().clone()).collect())
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn return_field(&self, args: &[FieldRef]) -> Result<FieldRef> {
        if is_vector_arg(args) {
            let t = args[0].data_type();
            let kind = Kind::of(t).expect("vector argument");
            return Ok(Arc::new(vector_field(self.name(), kind.data_type(super::fixed_dims(t)))));
        }
        self.inner.return_field(args)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if is_vector_arg(args.expr_fields) {
            let t = args.return_field.data_type();
            let vector = Kind::of(t).expect("vector result");
            return Ok(Box::new(VectorAccumulator { kind: self.kind, vector, dims: super::fixed_dims(t), count: 0, sum: Vec::new() }));
        }
        self.inner.inner().accumulator(args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if is_vector_arg(args.input_fields) {
            let item = Arc::new(Field::new("item", DataType::Float64, true));
            return Ok(vec![
                Arc::new(Field::new(format!("{}[count]", args.name), DataType::Int64, true)),
                Arc::new(Field::new(format!("{}[sum]", args.name), DataType::List(item), true)),
            ]);
        }
        self.inner.inner().state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !is_vector_arg(args.expr_fields) && self.inner.inner().groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner.inner().create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if is_vector_arg(args.expr_fields) {
            return self.accumulator(args);
        }
        self.inner.inner().create_sliding_accumulator(args)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        if is_vector_type(data_type) { SetMonotonicity::NotMonotonic } else { self.inner.inner().set_monotonicity(data_type) }
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        self.inner.inner().default_value(data_type)
    }

    fn is_nullable(&self) -> bool {
        true
    }
}

/// Sums (in double precision for `avg`, single for `sum`) and counts the non-null vectors.
#[derive(Debug)]
struct VectorAccumulator {
    kind: Aggregate,
    /// `vector` or `halfvec`: the argument's (and result's) type.
    vector: Kind,
    dims: Option<usize>,
    count: i64,
    sum: Vec<f64>,
}

impl VectorAccumulator {
    fn add(&mut self, v: impl ExactSizeIterator<Item = f64>, count: i64) -> Result<()> {
        if self.count == 0 {
            self.sum = vec![0.0; v.len()];
        } else if v.len() != self.sum.len() {
            return Err(match self.kind {
                Aggregate::Avg => VectorError::ExpectedDims { expected: self.sum.len(), actual: v.len() },
                Aggregate::Sum => VectorError::DifferentDims { ty: self.vector.name(), a: self.sum.len(), b: v.len() },
            }
            .into());
        }
        for (s, x) in self.sum.iter_mut().zip(v) {
            *s = match self.kind {
                Aggregate::Avg => *s + x,
                // pgvector adds vectors in float32.
                Aggregate::Sum => (*s as f32 + x as f32) as f64,
            };
            if s.is_infinite() {
                return Err(VectorError::Overflow.into());
            }
        }
        self.count += count;
        Ok(())
    }
}

impl Accumulator for VectorAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = Rows::new(&ColumnarValue::Array(values[0].clone()))?;
        for i in 0..values[0].len() {
            if let Some(v) = rows.get(i) {
                self.add(v.iter().map(|x| *x as f64), 1)?;
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let counts = states[0].as_primitive::<Int64Type>();
        let sums = states[1].as_list::<i32>();
        for i in 0..counts.len() {
            if counts.is_null(i) || counts.value(i) == 0 {
                continue;
            }
            let row = sums.value(i);
            let row = row.as_primitive::<Float64Type>();
            self.add(row.values().iter().copied(), counts.value(i))?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let sum = Arc::new(Float64Array::from(self.sum.clone())) as ArrayRef;
        Ok(vec![
            ScalarValue::Int64(Some(self.count)),
            ScalarValue::List(Arc::new(arrow::array::ListArray::new(
                Arc::new(Field::new("item", DataType::Float64, true)),
                arrow::buffer::OffsetBuffer::from_lengths([sum.len()]),
                sum,
                None,
            ))),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let t = self.vector.data_type(self.dims);
        if self.count == 0 {
            return ScalarValue::try_from(&t);
        }
        let n = self.count as f64;
        let mut out = super::array::Builder::new(self.vector, self.dims, 1);
        out.push_with(self.sum.len(), |r| {
            for (r, s) in r.iter_mut().zip(&self.sum) {
                *r = match self.kind {
                    Aggregate::Avg => (s / n) as f32,
                    Aggregate::Sum => *s as f32,
                };
                if r.is_infinite() {
                    return Err(VectorError::Overflow.into());
                }
            }
            Ok(())
        })?;
        let array = out.finish()?;
        ScalarValue::try_from_array(&array, 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sum.capacity() * 8
    }
}
