//! Casts to and from `vector`: from text (`'[1,2,3]'::vector(3)`), from numeric arrays
//! (`ARRAY[1,2]::vector`), between dimensions (checked), and to text.
//!
//! Arrow has no such casts, so an analyzer rule replaces each `Cast` whose target (or, for text,
//! source) is a vector with a call to [`VectorCast`] / [`VectorText`] before DataFusion plans the
//! physical cast. Casts to `real[]` and `double precision[]` are Arrow's own.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, Field, FieldRef, Float32Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility, lit,
};
use datafusion::optimizer::AnalyzerRule;

use super::array::{Builder, Rows, output};
use super::error::VectorError;
use super::text::{check_kind_dims, check_kind_element, format_vector, parse};
use super::{Kind, bit, is_vector_field, sparse, vector_field};

/// `__quartz_to_vector(value, dims, kind)`: `dims` is the target's dimension, or -1 for none;
/// `kind` is `'vector'` or `'halfvec'`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VectorCast {
    signature: Signature,
}

impl VectorCast {
    pub const NAME: &'static str = "__quartz_to_vector";

    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self { signature: Signature::any(3, Volatility::Immutable) })
    }
}

fn target_kind(arg: Option<&ScalarValue>) -> Kind {
    match arg {
        Some(ScalarValue::Utf8(Some(k))) => Kind::from_name(k).unwrap_or(Kind::Vector),
        _ => Kind::Vector,
    }
}

fn target_dims(arg: Option<&ScalarValue>) -> Option<usize> {
    match arg {
        Some(ScalarValue::Int32(Some(n))) if *n > 0 => Some(*n as usize),
        Some(ScalarValue::Int64(Some(n))) if *n > 0 => Some(*n as usize),
        _ => None,
    }
}

impl ScalarUDFImpl for VectorCast {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args is used")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let dims = target_dims(args.scalar_arguments.get(1).copied().flatten());
        let kind = target_kind(args.scalar_arguments.get(2).copied().flatten());
        Ok(Arc::new(vector_field(kind.name(), kind.data_type(dims))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (ColumnarValue::Scalar(dims), ColumnarValue::Scalar(kind)) = (&args.args[1], &args.args[2]) else {
            return exec_err!("vector cast needs a constant dimension and type");
        };
        let (dims, kind) = (target_dims(Some(dims)), target_kind(Some(kind)));
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
        output(to_kind(&input, kind, dims)?, scalar)
    }
}

/// Converts text, numeric arrays or vectors to vectors of `dims` dimensions (any, if `None`).
pub fn to_vector(input: &ArrayRef, dims: Option<usize>) -> Result<ArrayRef> {
    to_kind(input, Kind::Vector, dims)
}

/// Converts text, numeric arrays or vectors of either kind to vectors of `kind`.
pub fn to_kind(input: &ArrayRef, kind: Kind, dims: Option<usize>) -> Result<ArrayRef> {
    let n = input.len();
    let mut out = Builder::new(kind, dims, n);
    match input.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = arrow::compute::cast(input, &DataType::Utf8)?;
            for v in text.as_string::<i32>().iter() {
                match v {
                    Some(t) => out.push(&parse(kind, t, dims)?),
                    None => out.push_null(),
                }
            }
        }
        t if sparse::is_sparse_type(t) => {
            for row in sparse::rows_of(&ColumnarValue::Array(input.clone()), n)? {
                match row {
                    Some(s) => {
                        check_kind_dims(kind, s.dim, dims)?;
                        let dense = s.dense();
                        out.push_with(dense.len(), |r| {
                            for (r, x) in r.iter_mut().zip(&dense) {
                                *r = check_kind_element(kind, *x)?;
                            }
                            Ok(())
                        })?;
                    }
                    None => out.push_null(),
                }
            }
        }
        t if Kind::of(t).is_some() => {
            let rows = Rows::new(&ColumnarValue::Array(input.clone()))?;
            for i in 0..n {
                match rows.get(i) {
                    Some(v) => {
                        check_kind_dims(kind, v.len(), dims)?;
                        out.push_with(v.len(), |r| {
                            for (r, x) in r.iter_mut().zip(v) {
                                *r = check_kind_element(kind, *x)?;
                            }
                            Ok(())
                        })?;
                    }
                    None => out.push_null(),
                }
            }
        }
        DataType::FixedSizeList(f, _) | DataType::List(f) | DataType::LargeList(f) if numeric(f.data_type()) => {
            // Elements as float32 (a double too large for float32 becomes infinite, which vectors
            // refuse, as in pgvector).
            let list = arrow::compute::cast(input, &DataType::List(Arc::new(Field::new("item", f.data_type().clone(), true))))?;
            let list = list.as_list::<i32>();
            for i in 0..n {
                if list.is_null(i) {
                    out.push_null();
                    continue;
                }
                let row = list.value(i);
                if row.null_count() > 0 {
                    return Err(VectorError::ArrayNulls.into());
                }
                let floats = arrow::compute::cast(&row, &DataType::Float32)?;
                check_kind_dims(kind, floats.len(), dims)?;
                out.push_with(floats.len(), |r| {
                    for (r, v) in r.iter_mut().zip(floats.as_primitive::<Float32Type>().values()) {
                        *r = check_kind_element(kind, *v)?;
                    }
                    Ok(())
                })?;
            }
        }
        DataType::Null => (0..n).for_each(|_| out.push_null()),
        other => {
            return Err(crate::Error::CannotCast { from: super::sql_type_name(other), to: kind.name().into() }.into());
        }
    }
    out.finish()
}

fn numeric(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Null)
}

/// `__quartz_vector_text(v)`: a vector's text form.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VectorText {
    signature: Signature,
}

impl VectorText {
    pub const NAME: &'static str = "__quartz_vector_text";

    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self { signature: Signature::any(1, Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for VectorText {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let rows = Rows::new(&args.args[0])?;
        let n = if scalar { 1 } else { args.number_rows };
        let text: StringArray = (0..n).map(|i| rows.get(i).map(format_vector)).collect();
        output(Arc::new(text), scalar)
    }
}

/// Replaces casts involving vectors with [`VectorCast`] and [`VectorText`].
#[derive(Debug)]
pub struct VectorCasts {
    to_vector: Arc<ScalarUDF>,
    to_text: Arc<ScalarUDF>,
    to_bit: Arc<ScalarUDF>,
    bit_text: Arc<ScalarUDF>,
    to_sparse: Arc<ScalarUDF>,
    sparse_text: Arc<ScalarUDF>,
}

impl Default for VectorCasts {
    fn default() -> Self {
        let mut functions = bit::all();
        functions.extend(super::sparse_functions::all());
        let find = |name: &str| Arc::new(functions.iter().find(|f| f.name() == name).expect("cast functions").clone());
        Self {
            to_vector: Arc::new(VectorCast::udf()),
            to_text: Arc::new(VectorText::udf()),
            to_bit: find(bit::TO_BIT),
            bit_text: find(bit::BIT_TEXT),
            to_sparse: find(super::sparse_functions::TO_SPARSEVEC),
            sparse_text: find(super::sparse_functions::SPARSEVEC_TEXT),
        }
    }
}

impl AnalyzerRule for VectorCasts {
    fn name(&self) -> &str {
        "quartz_vector_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::rewrite::rewrite_expressions(plan, |e, schema| self.rewrite(e, schema))
    }
}

impl VectorCasts {
    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let Expr::Cast(Cast { expr, field }) = e else { return Ok(Transformed::no(e)) };
        let target = field.data_type();
        let source = expr.to_field(schema).ok().map(|(_, f)| f);
        if sparse::is_sparse_type(target) {
            if source.as_ref().is_some_and(|f| sparse::is_sparse_type(f.data_type())) && !field.metadata().contains_key(bit::TYPMOD_METADATA) {
                return Ok(Transformed::yes(*expr));
            }
            let dims: i32 = field.metadata().get(bit::TYPMOD_METADATA).and_then(|n| n.parse().ok()).unwrap_or(-1);
            return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(self.to_sparse.clone(), vec![*expr, lit(dims)]))));
        }
        if matches!(target, DataType::Utf8) && source.as_ref().is_some_and(|f| sparse::is_sparse_type(f.data_type())) {
            return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(self.sparse_text.clone(), vec![*expr]))));
        }
        if bit::is_bit_type(target) {
            if source.as_ref().is_some_and(|f| bit::is_bit_type(f.data_type())) && !field.metadata().contains_key(bit::TYPMOD_METADATA) {
                return Ok(Transformed::yes(*expr));
            }
            let varying = field.metadata().get(crate::types::PG_TYPE_METADATA).is_some_and(|t| t == bit::VARBIT);
            let length: i32 = field.metadata().get(bit::TYPMOD_METADATA).and_then(|n| n.parse().ok()).unwrap_or(-1);
            let args = vec![*expr, lit(length), lit(varying as i32), lit(1)];
            return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(self.to_bit.clone(), args))));
        }
        if matches!(target, DataType::Utf8) && source.as_ref().is_some_and(|f| bit::is_bit_type(f.data_type())) {
            return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(self.bit_text.clone(), vec![*expr]))));
        }
        if is_vector_field(&field) {
            if source.as_ref().map(|f| f.data_type()) == Some(target) {
                return Ok(Transformed::yes(*expr));
            }
            let dims = match target {
                DataType::FixedSizeList(_, n) => *n,
                _ => -1,
            };
            let kind = Kind::of(target).expect("vector field").name();
            let call = ScalarFunction::new_udf(self.to_vector.clone(), vec![*expr, lit(dims), lit(kind)]);
            return Ok(Transformed::yes(Expr::ScalarFunction(call)));
        }
        if matches!(target, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            && source.as_ref().is_some_and(|f| is_vector_field(f))
        {
            let call = Expr::ScalarFunction(ScalarFunction::new_udf(self.to_text.clone(), vec![*expr]));
            return Ok(Transformed::yes(if target == &DataType::Utf8 { call } else { call.cast_to(target, schema)? }));
        }
        Ok(Transformed::no(Expr::Cast(Cast { expr, field })))
    }
}
