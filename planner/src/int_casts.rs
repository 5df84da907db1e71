//! Casts of fractional numbers to integers round, as PostgreSQL's do: `numeric` half away from
//! zero (`2.5::int` is 3, `-2.5::int` is -3), `real` and `double precision` half to even
//! (`2.5::float8::int` is 2). Arrow's casts truncate (`3.5::int` would be 3), which also
//! silently changed values an INSERT put into integer columns.
//!
//! An analyzer rule (after type coercion) turns `CAST(x AS int)` of a decimal or float `x` into
//! `CAST(__quartz_round_to_integer(x) AS int)`; the rounded value keeps `x`'s type, so the cast
//! after it is exact, and out-of-range values still fail there (22003).
//!
//! The same rule trims the white space around text cast to a number (`' 12 '::int`,
//! `'1.5\n'::numeric`), which PostgreSQL's input functions skip and Arrow's casts refuse.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array};
use arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type};
use datafusion::common::DFSchema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::optimizer::AnalyzerRule;

/// `__quartz_round_to_integer(x)`: `x` rounded to a whole number, as PostgreSQL rounds it on
/// the way to an integer type; of `x`'s type.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RoundToInteger {
    signature: Signature,
}

impl ScalarUDFImpl for RoundToInteger {
    fn name(&self) -> &str {
        "__quartz_round_to_integer"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        Ok(types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(args.number_rows)?;
        let out: ArrayRef = match input.data_type() {
            DataType::Decimal128(p, s) => {
                let divisor = 10i128.pow(*s as u32);
                let rounded: Decimal128Array = input.as_primitive::<Decimal128Type>().unary(|v| half_away_from_zero(v, divisor));
                Arc::new(rounded.with_precision_and_scale(*p, *s)?)
            }
            DataType::Float64 => Arc::new(input.as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::round_ties_even)),
            DataType::Float32 => Arc::new(input.as_primitive::<Float32Type>().unary::<_, Float32Type>(f32::round_ties_even)),
            _ => input,
        };
        crate::functions::output(out, scalar)
    }
}

/// A decimal's unscaled value `v` (scaled by `divisor`) rounded to a whole number, half away
/// from zero, still scaled.
fn half_away_from_zero(v: i128, divisor: i128) -> i128 {
    if divisor == 1 {
        return v;
    }
    let (whole, rest) = (v / divisor, v % divisor);
    // `divisor` is a power of ten above 1, so even: no doubling of `rest` (which could overflow).
    let whole = if rest.abs() >= divisor / 2 { whole + v.signum() } else { whole };
    whole.saturating_mul(divisor)
}

#[derive(Debug)]
pub struct IntegerCasts {
    round: Arc<ScalarUDF>,
}

impl Default for IntegerCasts {
    fn default() -> Self {
        Self { round: Arc::new(ScalarUDF::new_from_impl(RoundToInteger { signature: Signature::any(1, Volatility::Immutable) })) }
    }
}

impl IntegerCasts {
    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let Expr::Cast(Cast { expr, field }) = e else { return Ok(Transformed::no(e)) };
        let to_number = matches!(field.data_type(), DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..));
        let from_text = matches!(expr.get_type(schema), Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8));
        let trimmed = matches!(expr.as_ref(), Expr::ScalarFunction(f) if f.func.name() == "btrim");
        if to_number && from_text && !trimmed {
            let spaces = Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(" \t\n\r\u{b}\u{c}".into())), None);
            let expr = datafusion::functions::string::expr_fn::btrim(vec![*expr, spaces]);
            return Ok(Transformed::yes(Expr::Cast(Cast { expr: Box::new(expr), field })));
        }
        let to_integer = matches!(field.data_type(), DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64);
        let fractional = matches!(expr.get_type(schema), Ok(DataType::Decimal128(_, s)) if s > 0) || matches!(expr.get_type(schema), Ok(DataType::Float32 | DataType::Float64));
        let already = matches!(expr.as_ref(), Expr::ScalarFunction(f) if f.func.name() == self.round.name());
        if !to_integer || !fractional || already {
            return Ok(Transformed::no(Expr::Cast(Cast { expr, field })));
        }
        let rounded = Expr::ScalarFunction(ScalarFunction::new_udf(self.round.clone(), vec![*expr]));
        Ok(Transformed::yes(Expr::Cast(Cast { expr: Box::new(rounded), field })))
    }
}

impl AnalyzerRule for IntegerCasts {
    fn name(&self) -> &str {
        "quartz_integer_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::rewrite::rewrite_expressions(plan, |e, schema| self.rewrite(e, schema))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_half_away_from_zero() {
        // Scale 1: 2.5, -2.5, 2.4, -2.6, 0.5.
        let round = |v| half_away_from_zero(v, 10) / 10;
        assert_eq!([25, -25, 24, -26, 5, 35].map(round), [3, -3, 2, -3, 1, 4]);
        assert_eq!(half_away_from_zero(7, 1), 7);
        // Scale 38: 0.9 and -0.5 round away from zero without overflowing.
        let d = 10i128.pow(38);
        assert_eq!(half_away_from_zero(9 * (d / 10), d), d);
        assert_eq!(half_away_from_zero(-d / 2, d), -d);
        assert_eq!(half_away_from_zero(d / 2 - 1, d), 0);
    }
}
