//! Statement results to wire messages: Arrow batches become DataRows through `arrow-pg`, command
//! tags become CommandComplete.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;
use quartzdb_planner::{CommandTag, Output};

use super::cancel::CancelState;
use super::error::{cancelled, to_pgwire};

/// How a statement's result columns are encoded: one format for all, or one per column.
pub type Format = pgwire::api::portal::Format;

/// The Arrow type a column is sent as: `arrow-pg` cannot encode some types, and PostgreSQL has
/// no unsigned or 1-byte integers, so those are widened first.
pub(crate) fn wire_type(t: &DataType) -> DataType {
    match t {
        DataType::Int8 | DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 => DataType::Float32,
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => DataType::Binary,
        DataType::Dictionary(_, v) => wire_type(v),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) | DataType::LargeListView(f) => {
            DataType::List(Arc::new(Field::new(f.name(), wire_type(f.data_type()), true)))
        }
        other => other.clone(),
    }
}

pub fn wire_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), wire_type(f.data_type()), true).with_metadata(f.metadata().clone()))
            .collect::<Vec<_>>(),
    ))
}

/// Casts a batch to its wire schema. Floats sent as text are formatted here, as PostgreSQL
/// prints them (`4`, not `4.0`; `Infinity`), which `arrow-pg` does not do.
fn to_wire(batch: RecordBatch, schema: &SchemaRef, text: &[bool], tz: chrono_tz::Tz) -> datafusion::error::Result<RecordBatch> {
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, (c, f)) in batch.columns().iter().zip(schema.fields()).enumerate() {
        let c = if c.data_type() == f.data_type() { c.clone() } else { cast(c, f.data_type())? };
        if text[i] && matches!(f.data_type(), DataType::Float32 | DataType::Float64) {
            let strings: StringArray = if f.data_type() == &DataType::Float32 {
                c.as_primitive::<arrow::datatypes::Float32Type>().iter().map(|v| v.map(pg_float4)).collect()
            } else {
                c.as_primitive::<arrow::datatypes::Float64Type>().iter().map(|v| v.map(pg_float)).collect()
            };
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(strings) as ArrayRef);
        } else if text[i] && matches!(f.data_type(), DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_)) {
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(pg_datetime_text(&c, tz)?) as ArrayRef);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c);
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// Timestamps and times as PostgreSQL prints them: fractional seconds only when non-zero and
/// without trailing zeros; `timestamptz` in the session time zone (UTC) with its offset.
fn pg_datetime_text(c: &ArrayRef, zone: chrono_tz::Tz) -> datafusion::error::Result<StringArray> {
    use arrow::datatypes::{Time64MicrosecondType, TimestampMicrosecondType, TimeUnit};
    match c.data_type() {
        DataType::Timestamp(_, tz) => {
            let micros = cast(c, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let micros = micros.as_primitive::<TimestampMicrosecondType>();
            Ok(match tz {
                None => micros.iter().map(|v| v.map(|us| pg_timestamp(us, ""))).collect(),
                Some(_) => micros.iter().map(|v| v.map(|us| pg_timestamptz(us, zone))).collect(),
            })
        }
        _ => {
            let micros = cast(c, &DataType::Time64(TimeUnit::Microsecond))?;
            Ok(micros.as_primitive::<Time64MicrosecondType>().iter().map(|v| v.map(pg_time)).collect())
        }
    }
}

fn fraction(micros: i64) -> String {
    if micros == 0 {
        return String::new();
    }
    let digits = format!(".{micros:06}");
    digits.trim_end_matches('0').to_string()
}

pub fn pg_timestamp(us: i64, suffix: &str) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => format!("{}{}{suffix}", t.naive_utc().format("%Y-%m-%d %H:%M:%S"), fraction(frac)),
        None => format!("{us}"),
    }
}

/// A `timestamptz` in the session time zone with its UTC offset (`+02`, `-03:30`).
pub fn pg_timestamptz(us: i64, zone: chrono_tz::Tz) -> String {
    use chrono::{Offset, TimeZone};
    let secs = us.div_euclid(1_000_000);
    let Some(utc) = chrono::DateTime::from_timestamp(secs, 0) else { return format!("{us}") };
    let offset = zone.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc();
    let local = utc.naive_utc() + chrono::Duration::seconds(offset as i64);
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 3600, offset.abs() / 60 % 60);
    let offset = if m == 0 { format!("{sign}{h:02}") } else { format!("{sign}{h:02}:{m:02}") };
    format!("{}{}{offset}", local.format("%Y-%m-%d %H:%M:%S"), fraction(us.rem_euclid(1_000_000)))
}

fn pg_time(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    format!("{:02}:{:02}:{:02}{}", secs / 3600, secs / 60 % 60, secs % 60, fraction(us.rem_euclid(1_000_000)))
}

/// `real` keeps its own shortest form (`1.1`, not `1.100000023841858`).
fn pg_float4(v: f32) -> String {
    let wide = pg_float(v as f64);
    if wide.contains('e') || !v.is_finite() { wide } else { format!("{v}") }
}

/// PostgreSQL's text form of a float (extra_float_digits = 1: shortest exact representation).
pub fn pg_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-4..1e15).contains(&abs) {
        // `1.5e-7` → `1.5e-07`, `1e300` → `1e+300`, as C's %g prints exponents.
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').expect("exponent form");
        let (sign, digits) = exp.strip_prefix('-').map(|d| ('-', d)).unwrap_or(('+', exp));
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    format!("{v}")
}

fn format_options() -> Arc<FormatOptions> {
    let mut options = FormatOptions::default();
    options.date_style = "ISO, MDY".into();
    options.time_zone = "UTC".into();
    Arc::new(options)
}

/// RowDescription fields for a result schema.
pub fn fields(schema: &Schema, format: &Format) -> PgWireResult<Vec<FieldInfo>> {
    let wire = wire_schema(schema);
    let mut out = arrow_pg::datatypes::arrow_schema_to_pg_fields(&wire, format, Some(format_options()))?;
    for (f, info) in wire.fields().iter().zip(out.iter_mut()) {
        if let Some(t) = declared_type(f) {
            *info = FieldInfo::new(info.name().to_string(), None, None, t, info.format()).with_format_options(format_options());
        }
    }
    Ok(out)
}

/// Types Arrow cannot tell apart from text (uuid, json, jsonb) carry their PostgreSQL name in
/// the field's metadata.
fn declared_type(f: &Field) -> Option<Type> {
    match f.metadata().get(quartzdb_planner::types::PG_TYPE_METADATA)?.as_str() {
        "uuid" => Some(Type::UUID),
        "json" => Some(Type::JSON),
        "jsonb" => Some(Type::JSONB),
        _ => None,
    }
}

/// The CommandComplete tag of a command.
pub fn tag(t: &CommandTag) -> Tag {
    let mut tag = Tag::new(&t.command);
    if t.oid {
        tag = tag.with_oid(0);
    }
    if let Some(rows) = t.rows {
        tag = tag.with_rows(rows);
    }
    tag
}

/// A statement's output as a pgwire response. Row streams stop with 57014 when the connection's
/// query is cancelled (`cancel` moving past `generation`).
pub fn response(output: Output, format: &Format, tz: chrono_tz::Tz, cancel: Arc<CancelState>, generation: u64, deadline: Option<tokio::time::Instant>) -> PgWireResult<Response> {
    match output {
        Output::Empty => Ok(Response::EmptyQuery),
        Output::Command(t) => Ok(Response::Execution(tag(&t))),
        Output::Rows { schema, stream, command } => {
            let fields = Arc::new(fields(&schema, format)?);
            let text = (0..schema.fields().len()).map(|i| format.format_for(i) == FieldFormat::Text).collect();
            let rows = rows(stream, wire_schema(&schema), text, tz, fields.clone(), cancel, generation, deadline);
            let mut response = QueryResponse::new(fields, rows);
            // pgwire appends the row count; INSERT … RETURNING's tag also has the OID (0).
            response.command_tag = if command.oid { format!("{} 0", command.command) } else { command.command };
            Ok(Response::Query(response))
        }
    }
}

type RowIter = Box<dyn Iterator<Item = PgWireResult<DataRow>> + Send>;

fn rows(
    stream: SendableRecordBatchStream,
    schema: SchemaRef,
    text: Vec<bool>,
    tz: chrono_tz::Tz,
    fields: Arc<Vec<FieldInfo>>,
    cancel: Arc<CancelState>,
    generation: u64,
    deadline: Option<tokio::time::Instant>,
) -> impl futures::Stream<Item = PgWireResult<DataRow>> + Send + 'static {
    let state = (stream, None::<RowIter>, false);
    futures::stream::unfold(state, move |(mut stream, mut current, done)| {
        let schema = schema.clone();
        let text = text.clone();
        let fields = fields.clone();
        let cancel = cancel.clone();
        async move {
            if done {
                return None;
            }
            loop {
                if let Some(row) = current.as_mut().and_then(|it| it.next()) {
                    return Some((row, (stream, current, false)));
                }
                let next = tokio::select! {
                    biased;
                    _ = cancel.cancelled(generation) => return Some((Err(cancelled()), (stream, None, true))),
                    _ = super::query::sleep_until(deadline) => return Some((Err(super::error::timed_out()), (stream, None, true))),
                    next = stream.next() => next,
                };
                match next {
                    None => return None,
                    Some(Err(e)) => return Some((Err(to_pgwire(&e)), (stream, None, true))),
                    Some(Ok(batch)) => match to_wire(batch, &schema, &text, tz) {
                        Ok(batch) => current = Some(arrow_pg::datatypes::encode_recordbatch(fields.clone(), batch)),
                        Err(e) => return Some((Err(to_pgwire(&e)), (stream, None, true))),
                    },
                }
            }
        }
    })
}

/// All result columns in text format (simple query).
pub fn text() -> Format {
    Format::UnifiedText
}


#[cfg(test)]
mod tests {
    use super::pg_float;

    #[test]
    fn floats_print_as_in_postgres() {
        assert_eq!(pg_float(4.0), "4");
        assert_eq!(pg_float(1.5), "1.5");
        assert_eq!(pg_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(pg_float(-0.0001), "-0.0001");
        assert_eq!(pg_float(1.5e-7), "1.5e-07");
        assert_eq!(pg_float(1e300), "1e+300");
        assert_eq!(pg_float(f64::INFINITY), "Infinity");
        assert_eq!(pg_float(f64::NAN), "NaN");
        assert_eq!(super::pg_float4(1.1), "1.1");
        assert_eq!(super::pg_timestamp(0, "+00"), "1970-01-01 00:00:00+00");
        assert_eq!(super::pg_timestamp(1_500_000, ""), "1970-01-01 00:00:01.5");
        assert_eq!(super::pg_time(3_723_000_001), "01:02:03.000001");
        assert_eq!(super::pg_timestamptz(0, chrono_tz::UTC), "1970-01-01 00:00:00+00");
        assert_eq!(super::pg_timestamptz(0, chrono_tz::Asia::Kolkata), "1970-01-01 05:30:00+05:30");
        assert_eq!(super::pg_timestamptz(1_700_000_000_000_000, chrono_tz::America::New_York), "2023-11-14 17:13:20-05");
    }
}
