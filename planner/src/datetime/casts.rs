//! Casts that involve the session time zone or PostgreSQL's date/time text, in place of Arrow's.
//!
//! An analyzer rule (after type coercion, so it also sees the casts coercion adds, as in
//! `ts > '2024-01-01'` or an INSERT's) replaces each cast from text to `date`, `timestamp` or
//! `timestamptz`, between `timestamp` and `timestamptz`, from `timestamptz` to `date`, and from a
//! timestamp to text, with a call to [`ZonedCast`], passing the session zone as an argument.
//! The functions are `Stable`, so a plan holding a zone is never reused after `SET TimeZone`.

use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, AsArray, Date32Array, IntervalMonthDayNanoArray, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit, TimeUnit, TimestampMicrosecondType};
use chrono_tz::Tz;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit};
use datafusion::optimizer::AnalyzerRule;

use super::{Target, local_to_utc, output, parse, utc_to_local};
use crate::catalog_provider::PlanningScope;

/// What a [`ZonedCast`] does to its first argument; the second is the zone's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Text → `date` / `timestamp` / `timestamptz`.
    Read(Target),
    /// Text → `interval` (the zone is not used).
    ReadInterval,
    /// `timestamp` → `timestamptz`: the wall-clock time in the zone.
    LocalToUtc,
    /// `timestamptz` → `timestamp`: the wall-clock time in the zone.
    UtcToLocal,
    /// `timestamp` → text.
    TimestampText,
    /// `timestamptz` → text, in the zone.
    TimestamptzText,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ZonedCast {
    op: Op,
    name: String,
    signature: Signature,
}

impl ZonedCast {
    pub fn udf(op: Op) -> ScalarUDF {
        let name = format!("__quartz_{}", format!("{op:?}").to_ascii_lowercase().replace(['(', ')'], "_"));
        ScalarUDF::new_from_impl(Self { op, name, signature: Signature::any(2, Volatility::Stable) })
    }
}

const UTC: &str = "UTC";

impl ScalarUDFImpl for ZonedCast {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            Op::Read(Target::Date) => DataType::Date32,
            Op::Read(Target::Timestamp) | Op::UtcToLocal => DataType::Timestamp(TimeUnit::Microsecond, None),
            Op::Read(Target::Timestamptz) | Op::LocalToUtc => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            Op::TimestampText | Op::TimestamptzText => DataType::Utf8,
            Op::ReadInterval => DataType::Interval(IntervalUnit::MonthDayNano),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let zone = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(z))) => z.parse::<Tz>().unwrap_or(chrono_tz::UTC),
            _ => chrono_tz::UTC,
        };
        let (input, scalar) = crate::functions::single_input(&args)?;
        let out: ArrayRef = match self.op {
            Op::Read(target) => {
                let now = chrono::Utc::now().timestamp_micros();
                let text = arrow::compute::cast(&input, &DataType::Utf8)?;
                let values = text.as_string::<i32>().iter().map(|v| v.map(|s| parse(s, target, zone, now)).transpose()).collect::<std::result::Result<Vec<_>, _>>()?;
                match target {
                    Target::Date => Arc::new(values.into_iter().map(|v| v.map(|d| d as i32)).collect::<Date32Array>()),
                    Target::Timestamp => Arc::new(TimestampMicrosecondArray::from(values)),
                    Target::Timestamptz => Arc::new(TimestampMicrosecondArray::from(values).with_timezone(UTC)),
                }
            }
            Op::ReadInterval => {
                let text = arrow::compute::cast(&input, &DataType::Utf8)?;
                let values = text.as_string::<i32>().iter().map(|v| v.map(read_interval).transpose()).collect::<std::result::Result<Vec<_>, _>>()?;
                Arc::new(IntervalMonthDayNanoArray::from(values))
            }
            Op::LocalToUtc => Arc::new(micros(&input)?.unary::<_, TimestampMicrosecondType>(|us| local_to_utc(us, zone)).with_timezone(UTC)),
            Op::UtcToLocal => Arc::new(micros(&input)?.unary::<_, TimestampMicrosecondType>(|us| utc_to_local(us, zone))),
            Op::TimestampText => Arc::new(micros(&input)?.iter().map(|v| v.map(output::timestamp)).collect::<StringArray>()),
            Op::TimestamptzText => Arc::new(micros(&input)?.iter().map(|v| v.map(|us| output::timestamptz(us, zone))).collect::<StringArray>()),
        };
        crate::functions::output(out, scalar)
    }
}

fn read_interval(text: &str) -> std::result::Result<IntervalMonthDayNano, super::DateTimeError> {
    let (months, days, micros) = super::interval::parse_interval(text)?;
    Ok(IntervalMonthDayNano::new(months, days, micros.saturating_mul(1000)))
}

/// A timestamp array's microseconds, whatever its unit and zone label.
fn micros(input: &ArrayRef) -> Result<TimestampMicrosecondArray> {
    let us = arrow::compute::cast(input, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    Ok(us.as_primitive::<TimestampMicrosecondType>().clone())
}

/// Replaces the casts [`ZonedCast`] does with calls to it, with the session zone.
#[derive(Debug)]
pub struct DateTimeCasts {
    scope: Arc<Mutex<PlanningScope>>,
    udfs: Vec<(Op, Arc<ScalarUDF>)>,
}

impl DateTimeCasts {
    pub fn new(scope: Arc<Mutex<PlanningScope>>) -> Self {
        let ops = [Op::ReadInterval, Op::Read(Target::Date), Op::Read(Target::Timestamp), Op::Read(Target::Timestamptz), Op::LocalToUtc, Op::UtcToLocal, Op::TimestampText, Op::TimestamptzText];
        Self { scope, udfs: ops.into_iter().map(|op| (op, Arc::new(ZonedCast::udf(op)))).collect() }
    }

    fn call(&self, op: Op, arg: Expr, zone: &str) -> Expr {
        let udf = self.udfs.iter().find(|(o, _)| *o == op).map(|(_, f)| f.clone()).expect("every op has a function");
        Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![arg, lit(zone)]))
    }

    /// `date_part`, `date_trunc` and `to_char` work in the zone an Arrow timestamp is labelled
    /// with; PostgreSQL's work in the session zone. So their `timestamptz` argument is
    /// relabelled with it (the instant is the same), and `date_trunc`'s result labelled back.
    fn in_session_zone(&self, mut f: ScalarFunction, schema: &DFSchema, zone: &str) -> Result<Transformed<Expr>> {
        let name = f.name().to_string();
        if !matches!(name.as_str(), "date_part" | "date_trunc" | "to_char") {
            return Ok(Transformed::no(Expr::ScalarFunction(f)));
        }
        let Some(position) = f.args.iter().position(|a| matches!(a.get_type(schema), Ok(DataType::Timestamp(_, Some(tz))) if tz.as_ref() != zone)) else {
            return Ok(Transformed::no(Expr::ScalarFunction(f)));
        };
        let Ok(DataType::Timestamp(unit, tz)) = f.args[position].get_type(schema) else { unreachable!("checked above") };
        let arg = std::mem::replace(&mut f.args[position], lit(0));
        f.args[position] = Expr::Cast(Cast::new(Box::new(arg), DataType::Timestamp(unit, Some(zone.into()))));
        let call = Expr::ScalarFunction(f);
        Ok(Transformed::yes(if name == "date_trunc" { Expr::Cast(Cast::new(Box::new(call), DataType::Timestamp(unit, tz))) } else { call }))
    }

    fn rewrite(&self, e: Expr, schema: &DFSchema, zone: &str) -> Result<Transformed<Expr>> {
        let e = match e {
            Expr::ScalarFunction(f) => return self.in_session_zone(f, schema, zone),
            e => e,
        };
        let Expr::Cast(Cast { expr, field }) = e else { return Ok(Transformed::no(e)) };
        let target = field.data_type().clone();
        let Ok(source) = expr.get_type(schema) else { return Ok(Transformed::no(Expr::Cast(Cast { expr, field }))) };
        let text = matches!(source, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        // The function's result, cast on to the target when its unit or zone label differ.
        let to_target = |e: Expr, produced: DataType| if produced == target { e } else { Expr::Cast(Cast::new(Box::new(e), target.clone())) };
        let naive_us = DataType::Timestamp(TimeUnit::Microsecond, None);
        let utc_us = DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()));
        let rewritten = match (&source, &target) {
            (_, DataType::Timestamp(_, tz)) if text => {
                let t = if tz.is_some() { Target::Timestamptz } else { Target::Timestamp };
                to_target(self.call(Op::Read(t), *expr, zone), if tz.is_some() { utc_us } else { naive_us })
            }
            (_, DataType::Date32) if text => self.call(Op::Read(Target::Date), *expr, zone),
            (_, DataType::Interval(_)) if text => to_target(self.call(Op::ReadInterval, *expr, zone), DataType::Interval(IntervalUnit::MonthDayNano)),
            (DataType::Timestamp(_, None), DataType::Timestamp(_, Some(_))) => to_target(self.call(Op::LocalToUtc, *expr, zone), utc_us),
            (DataType::Date32, DataType::Timestamp(_, Some(_))) => {
                let midnight = Expr::Cast(Cast::new(expr, naive_us));
                to_target(self.call(Op::LocalToUtc, midnight, zone), utc_us)
            }
            (DataType::Timestamp(_, Some(_)), DataType::Timestamp(_, None)) => to_target(self.call(Op::UtcToLocal, *expr, zone), naive_us),
            (DataType::Timestamp(_, Some(_)), DataType::Date32) => Expr::Cast(Cast::new(Box::new(self.call(Op::UtcToLocal, *expr, zone)), DataType::Date32)),
            (DataType::Timestamp(_, None), DataType::Utf8) => self.call(Op::TimestampText, *expr, zone),
            (DataType::Timestamp(_, Some(_)), DataType::Utf8) => self.call(Op::TimestamptzText, *expr, zone),
            _ => return Ok(Transformed::no(Expr::Cast(Cast { expr, field }))),
        };
        Ok(Transformed::yes(rewritten))
    }
}

impl AnalyzerRule for DateTimeCasts {
    fn name(&self) -> &str {
        "quartz_datetime_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let zone = self.scope.lock().expect("scope lock").time_zone.name().to_string();
        crate::rewrite::rewrite_expressions(plan, |e, schema| self.rewrite(e, schema, &zone))
    }
}

/// Reads a text parameter bound for a date/time placeholder (`ts = $1` sent as text).
pub fn read_param(text: &str, ty: &DataType, zone: Tz) -> Option<crate::Result<ScalarValue>> {
    let now = chrono::Utc::now().timestamp_micros();
    let value = |t| parse(text, t, zone, now).map_err(crate::Error::DateTime);
    Some(match ty {
        DataType::Interval(IntervalUnit::MonthDayNano) => read_interval(text).map(|v| ScalarValue::IntervalMonthDayNano(Some(v))).map_err(crate::Error::DateTime),
        DataType::Date32 => value(Target::Date).map(|d| ScalarValue::Date32(Some(d as i32))),
        DataType::Timestamp(TimeUnit::Microsecond, None) => value(Target::Timestamp).map(|us| ScalarValue::TimestampMicrosecond(Some(us), None)),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => value(Target::Timestamptz).map(|us| ScalarValue::TimestampMicrosecond(Some(us), Some(tz.clone()))),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parameters_are_read_in_the_session_zone() {
        let ty = DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()));
        let v = read_param("2024-01-01 10:00", &ty, chrono_tz::Europe::Berlin).unwrap().unwrap();
        assert_eq!(v, ScalarValue::TimestampMicrosecond(Some(1_704_099_600_000_000), Some(UTC.into())));
        assert!(read_param("x", &DataType::Int32, chrono_tz::UTC).is_none());
    }
}
