//! Integer `+`, `-` and `*` that fail on overflow, as PostgreSQL's do ("integer out of range",
//! 22003), where DataFusion's wrap around silently (`2147483647::int + 1` would be
//! -2147483648).
//!
//! An analyzer rule (after type coercion, when both sides have the same integer type) replaces
//! each such operation with a call to [`Checked`], which uses Arrow's checked kernels.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::optimizer::AnalyzerRule;

/// `__quartz_checked_{add,sub,mul}(a, b)` on two integers of one type.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Checked {
    op: Operator,
    name: &'static str,
    signature: Signature,
}

impl Checked {
    fn udf(op: Operator) -> ScalarUDF {
        let name = match op {
            Operator::Plus => "__quartz_checked_add",
            Operator::Minus => "__quartz_checked_sub",
            _ => "__quartz_checked_mul",
        };
        ScalarUDF::new_from_impl(Self { op, name, signature: Signature::any(2, Volatility::Immutable) })
    }
}

/// PostgreSQL's name for an integer type, in its overflow message.
fn type_name(t: &DataType) -> &'static str {
    match t {
        DataType::Int16 => "smallint",
        DataType::Int32 => "integer",
        _ => "bigint",
    }
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        Ok(types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::compute::kernels::numeric;
        let (a, b) = (&args.args[0], &args.args[1]);
        let ty = a.data_type();
        let run = |x: &dyn arrow::array::Datum, y: &dyn arrow::array::Datum| match self.op {
            Operator::Plus => numeric::add(x, y),
            Operator::Minus => numeric::sub(x, y),
            _ => numeric::mul(x, y),
        };
        let out = match (a, b) {
            (ColumnarValue::Scalar(x), ColumnarValue::Scalar(y)) => run(&x.to_scalar()?, &y.to_scalar()?),
            (ColumnarValue::Scalar(x), ColumnarValue::Array(y)) => run(&x.to_scalar()?, y),
            (ColumnarValue::Array(x), ColumnarValue::Scalar(y)) => run(x, &y.to_scalar()?),
            (ColumnarValue::Array(x), ColumnarValue::Array(y)) => run(x, y),
        };
        let out = out.map_err(|e| match e {
            arrow::error::ArrowError::ArithmeticOverflow(_) => DataFusionError::External(Box::new(crate::Error::OutOfRange(format!("{} out of range", type_name(&ty))))),
            e => e.into(),
        })?;
        crate::functions::output(out, matches!((a, b), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_))))
    }
}

#[derive(Debug)]
pub struct CheckedArithmetic {
    add: Arc<ScalarUDF>,
    sub: Arc<ScalarUDF>,
    mul: Arc<ScalarUDF>,
}

impl Default for CheckedArithmetic {
    fn default() -> Self {
        Self { add: Arc::new(Checked::udf(Operator::Plus)), sub: Arc::new(Checked::udf(Operator::Minus)), mul: Arc::new(Checked::udf(Operator::Multiply)) }
    }
}

impl CheckedArithmetic {
    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else { return Ok(Transformed::no(e)) };
        let udf = match op {
            Operator::Plus => &self.add,
            Operator::Minus => &self.sub,
            Operator::Multiply => &self.mul,
            _ => return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right }))),
        };
        let integer = |t: &Option<DataType>| matches!(t, Some(DataType::Int16 | DataType::Int32 | DataType::Int64));
        let (lt, rt) = (left.get_type(schema).ok(), right.get_type(schema).ok());
        if !(integer(&lt) && lt == rt) {
            return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right })));
        }
        Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), vec![*left, *right]))))
    }
}

impl AnalyzerRule for CheckedArithmetic {
    fn name(&self) -> &str {
        "quartz_checked_arithmetic"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::rewrite::rewrite_expressions(plan, |e, schema| self.rewrite(e, schema))
    }
}
