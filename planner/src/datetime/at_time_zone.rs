//! `ts AT TIME ZONE zone` and `timezone(zone, ts)`: a `timestamptz` becomes the wall-clock
//! `timestamp` in `zone`, a `timestamp` (read as a wall-clock time in `zone`) becomes the
//! `timestamptz` instant. (DataFusion's AT TIME ZONE only relabels the value.) The zone is a
//! name (`Europe/Paris`, `UTC`) or a POSIX-style offset, where `+02` is two hours *west* of
//! Greenwich, as PostgreSQL reads it; an unknown name is 22023.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::DateTimeError;
use super::input::{Zone, parse_zone};

#[derive(Debug, PartialEq, Eq, Hash)]
struct AtTimeZone {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(AtTimeZone { signature: Signature::user_defined(Volatility::Immutable) })
}

/// A zone as AT TIME ZONE reads it: as the input functions read one (`datetime::input`), but a
/// numeric offset is POSIX-style, positive west of Greenwich.
fn zone(text: &str) -> std::result::Result<Zone, DateTimeError> {
    let trimmed = text.trim();
    match parse_zone(trimmed) {
        Some(Ok(Zone::Fixed(east))) if trimmed.starts_with(['+', '-']) => Ok(Zone::Fixed(-east)),
        Some(Ok(z)) => Ok(z),
        _ => Err(DateTimeError::UnknownZone(text.to_string())),
    }
}

impl ScalarUDFImpl for AtTimeZone {
    fn name(&self) -> &str {
        "timezone"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null);
        match args {
            [z, DataType::Timestamp(_, tz)] if text(z) => Ok(vec![DataType::Utf8, DataType::Timestamp(TimeUnit::Microsecond, tz.clone())]),
            // A date, an untyped literal, NULL or a parameter is a timestamptz, as PostgreSQL
            // resolves it (read in the session's zone by the cast coercion adds).
            [z, t] if text(z) && (text(t) || t == &DataType::Date32) => Ok(vec![DataType::Utf8, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))]),
            _ => Err(crate::Error::no_such_function("timezone", args).into()),
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match &args[1] {
            DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            _ => DataType::Timestamp(TimeUnit::Microsecond, None),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (arrays, scalar) = crate::functions::inputs(&args)?;
        let (zones, values) = (arrow::compute::cast(&arrays[0], &DataType::Utf8)?, &arrays[1]);
        let to_local = matches!(values.data_type(), DataType::Timestamp(_, Some(_)));
        let values = arrow::compute::cast(values, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
        let values = values.as_primitive::<TimestampMicrosecondType>();
        let mut cached: Option<(String, Zone)> = None;
        let mut out = Vec::with_capacity(values.len());
        for (name, us) in zones.as_string::<i32>().iter().zip(values.iter()) {
            let (Some(name), Some(us)) = (name, us) else {
                out.push(None);
                continue;
            };
            if !matches!(&cached, Some((n, _)) if n == name) {
                cached = Some((name.to_string(), zone(name).map_err(crate::Error::from)?));
            }
            let z = &cached.as_ref().expect("cached").1;
            out.push(Some(match (z, to_local) {
                _ if super::is_infinite(us) => us,
                (Zone::Fixed(s), true) => us.saturating_add(s * 1_000_000),
                (Zone::Fixed(s), false) => us.saturating_sub(s * 1_000_000),
                (Zone::Named(tz), true) => super::utc_to_local(us, *tz),
                (Zone::Named(tz), false) => super::local_to_utc(us, *tz),
            }));
        }
        let array = TimestampMicrosecondArray::from(out);
        let array: ArrayRef = if to_local { Arc::new(array) } else { Arc::new(array.with_timezone("UTC")) };
        crate::functions::output(array, scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::{Zone, zone};

    #[test]
    fn zones_read_as_postgresql_reads_them() {
        assert!(matches!(zone("+02"), Ok(Zone::Fixed(-7200))), "POSIX: west of Greenwich");
        assert!(matches!(zone("-05:30"), Ok(Zone::Fixed(19800))));
        assert!(matches!(zone("utc"), Ok(Zone::Fixed(0))));
        assert!(matches!(zone("europe/paris"), Ok(Zone::Named(chrono_tz::Europe::Paris))));
        assert!(zone("Mars/Base").is_err());
    }
}
