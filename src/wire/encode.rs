//! Statement results to wire messages: Arrow batches become DataRows through `arrow-pg`, command
//! tags become CommandComplete.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;
use quartzdb_planner::float_text::{pg_float4, pg_float8};
use quartzdb_planner::vector;
use quartzdb_planner::{CommandTag, Output};

use super::cancel::CancelState;
use super::error::{cancelled, to_pgwire};

/// How a statement's result columns are encoded: one format for all, or one per column.
pub type Format = pgwire::api::portal::Format;

/// The Arrow type a column is sent as: `arrow-pg` cannot encode some types, and PostgreSQL has
/// no unsigned or 1-byte integers, so those are widened first. `UInt64` (DataFusion's
/// `row_number()`, `rank()`) is `bigint` as in PostgreSQL; a value past its range is an error
/// when sent, never a wrong number.
pub(crate) fn wire_type(t: &DataType) -> DataType {
    match t {
        DataType::Int8 | DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Int64,
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

/// The schema a result is sent with. Vectors are sent as text or as pgvector's binary layout,
/// both carried in a `Utf8`/`Binary` column marked as a vector.
pub fn wire_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                if let Some(kind) = vector::Kind::of(f.data_type()) {
                    return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(kind.name()));
                }
                if vector::bit::is_bit_type(f.data_type()) {
                    return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(vector::bit::BIT));
                }
                if vector::sparse::is_sparse_type(f.data_type()) {
                    return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(vector::sparse::SPARSEVEC));
                }
                // Timestamps and intervals are encoded here: arrow-pg sends ±infinity as NULL and
                // NULL intervals as zero.
                if let DataType::Timestamp(_, tz) = f.data_type() {
                    return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(if tz.is_some() { TIMESTAMPTZ } else { TIMESTAMP }));
                }
                if matches!(f.data_type(), DataType::Interval(_)) {
                    return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(INTERVAL));
                }
                if let Some(m @ (INT2VECTOR | OIDVECTOR)) = marked(f) {
                    // A cast keeps its input's marker: `indkey::text` is text, `::int4[]` an array.
                    if is_int_vector(f.data_type()) {
                        return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(m));
                    }
                    return Field::new(f.name(), wire_type(f.data_type()), true);
                }
                // Catalog OIDs go out as `oid`, which drivers read as a 4-byte unsigned value.
                if f.data_type() == &DataType::UInt32 {
                    return Field::new(f.name(), DataType::Utf8, true).with_metadata(marker(OID));
                }
                Field::new(f.name(), wire_type(f.data_type()), true).with_metadata(f.metadata().clone())
            })
            .collect::<Vec<_>>(),
    ))
}

/// Marks a wire-schema column QuartzDB encodes itself (its Arrow type there is the encoded form).
fn marker(name: &str) -> std::collections::HashMap<String, String> {
    [(quartzdb_planner::types::PG_TYPE_METADATA.to_string(), name.to_string())].into()
}

/// The marker of `UInt32` columns sent as `oid`.
const OID: &str = "oid";
/// The markers of timestamp columns.
const TIMESTAMP: &str = "timestamp";
const TIMESTAMPTZ: &str = "timestamptz";
const INTERVAL: &str = "interval";
use quartzdb_planner::types::{INT2VECTOR, OIDVECTOR};

/// A wire-schema column's marker, if QuartzDB encodes it.
fn marked(f: &Field) -> Option<&str> {
    f.metadata().get(quartzdb_planner::types::PG_TYPE_METADATA).map(String::as_str)
}

/// An interval column as PostgreSQL prints it, or in its binary format (microseconds, days,
/// months); Arrow's nanoseconds are truncated to PostgreSQL's microseconds.
fn interval_column(c: &ArrayRef, text: bool) -> datafusion::error::Result<(DataType, ArrayRef)> {
    use arrow::datatypes::{IntervalMonthDayNanoType, IntervalUnit};
    let c = cast(c, &DataType::Interval(IntervalUnit::MonthDayNano))?;
    let values = c.as_primitive::<IntervalMonthDayNanoType>();
    let parts = values.iter().map(|v| v.map(|v| (v.months, v.days, v.nanoseconds / 1000)));
    let send = |(months, days, micros): &(i32, i32, i64), out: &mut Vec<u8>| {
        out.extend_from_slice(&micros.to_be_bytes());
        out.extend_from_slice(&days.to_be_bytes());
        out.extend_from_slice(&months.to_be_bytes());
    };
    Ok(encoded(parts, text, |(m, d, us)| quartzdb_planner::datetime::output::interval(*m, *d, *us), send))
}

/// A timestamp column as text, or in PostgreSQL's binary format: microseconds since
/// 2000-01-01, with ±infinity as the extreme values.
fn timestamp_column(c: &ArrayRef, text: bool, zone: chrono_tz::Tz) -> datafusion::error::Result<(DataType, ArrayRef)> {
    if text {
        return Ok((DataType::Utf8, Arc::new(pg_datetime_text(c, zone)?)));
    }
    use arrow::datatypes::{TimeUnit, TimestampMicrosecondType};
    const PG_EPOCH_US: i64 = 946_684_800_000_000;
    let micros = cast(c, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    let send = |us: &i64, out: &mut Vec<u8>| {
        let pg = if *us == i64::MAX || *us == i64::MIN { *us } else { us - PG_EPOCH_US };
        out.extend_from_slice(&pg.to_be_bytes());
    };
    Ok(encoded(micros.iter(), false, |us| us.to_string(), send))
}

/// `uuid` and `jsonb` columns (stored as text) in their binary forms: the 16 bytes of the
/// UUID; a version byte (1) before the JSON text.
fn binary_text_type(c: &ArrayRef, marker: &str) -> datafusion::error::Result<(DataType, ArrayRef)> {
    let c = cast(c, &DataType::Utf8)?;
    let values = c.as_string::<i32>().iter();
    if marker == "uuid" {
        let mut parsed = Vec::with_capacity(c.len());
        for v in values {
            parsed.push(match v {
                None => None,
                Some(s) => Some(uuid::Uuid::parse_str(s).map_err(|e| datafusion::error::DataFusionError::Execution(format!("invalid uuid {s:?}: {e}")))?),
            });
        }
        return Ok(encoded(parsed.into_iter(), false, |u| u.to_string(), |u, out| out.extend_from_slice(u.as_bytes())));
    }
    Ok(encoded(values, false, |s| s.to_string(), |s, out| {
        out.push(1);
        out.extend_from_slice(s.as_bytes());
    }))
}

/// The `n` of a `character(n)` type name (not of an array of it).
fn char_width(type_name: &str) -> Option<usize> {
    type_name.starts_with("character(").then(|| quartzdb_planner::types::char_limit(type_name)).flatten()
}

/// A `character(n)` column as PostgreSQL sends it (in either format): blank-padded to `n`
/// characters. Values are stored without the padding, which comparisons and casts to text
/// ignore in PostgreSQL too.
fn blank_padded(c: &ArrayRef, width: usize) -> datafusion::error::Result<(DataType, ArrayRef)> {
    let strings = cast(c, &DataType::Utf8)?;
    let padded: StringArray = strings
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(|v| format!("{v}{}", " ".repeat(width.saturating_sub(v.chars().count())))))
        .collect();
    Ok((DataType::Utf8, Arc::new(padded)))
}

/// An unconstrained `numeric` column, printed without its stored scale's trailing zeros (see
/// the planner's `numeric_text`); a declared `numeric(p,s)` keeps its scale.
fn is_unconstrained_numeric(f: &Field) -> bool {
    quartzdb_planner::numeric_text::is_unconstrained(f.data_type())
        && !f.metadata().get(quartzdb_planner::types::PG_TYPE_METADATA).is_some_and(|t| t.starts_with("numeric("))
}

/// Whether a column marked `int2vector` / `oidvector` still holds one (not a cast of it).
fn is_int_vector(t: &DataType) -> bool {
    matches!(t, DataType::List(f) if matches!(f.data_type(), DataType::Int16 | DataType::UInt32))
}

/// An `int2vector` / `oidvector` column: `1 2` as text; in binary, PostgreSQL's array format
/// (one dimension, lower bound 0, as these types have).
fn int_vector_column(c: &ArrayRef, text: bool) -> datafusion::error::Result<(DataType, ArrayRef)> {
    let list = c.as_list::<i32>();
    let (element_oid, width) = match list.value_type() {
        DataType::Int16 => (21u32, 2usize),
        _ => (26u32, 4usize),
    };
    let values = cast(list.values(), &DataType::Int64)?;
    let values = values.as_primitive::<arrow::datatypes::Int64Type>();
    let offsets = list.offsets();
    let rows = (0..list.len()).map(|i| (!list.is_null(i)).then(|| (offsets[i] as usize..offsets[i + 1] as usize).map(|j| values.value(j)).collect::<Vec<i64>>()));
    let format = |v: &Vec<i64>| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" ");
    let send = |v: &Vec<i64>, out: &mut Vec<u8>| {
        out.extend_from_slice(&(if v.is_empty() { 0i32 } else { 1 }).to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&element_oid.to_be_bytes());
        if !v.is_empty() {
            out.extend_from_slice(&(v.len() as i32).to_be_bytes());
            out.extend_from_slice(&0i32.to_be_bytes());
        }
        for x in v {
            out.extend_from_slice(&(width as i32).to_be_bytes());
            if width == 2 {
                out.extend_from_slice(&(*x as i16).to_be_bytes());
            } else {
                out.extend_from_slice(&(*x as u32).to_be_bytes());
            }
        }
    };
    Ok(encoded(rows, text, format, send))
}

fn is_vector_marker(t: &str) -> bool {
    vector::Kind::from_name(t).is_some() || t == vector::bit::BIT || t == vector::sparse::SPARSEVEC || t == OID
}

/// A vector or bit-string column in text (`[1,2,3]`, `101`) or binary (pgvector's and
/// PostgreSQL's send formats) form.
fn vector_column(c: &ArrayRef, text: bool) -> datafusion::error::Result<(DataType, ArrayRef)> {
    let n = c.len();
    if c.data_type() == &DataType::UInt32 {
        let values = c.as_primitive::<arrow::datatypes::UInt32Type>().iter();
        return Ok(encoded(values, text, |v| v.to_string(), |v, out| out.extend_from_slice(&v.to_be_bytes())));
    }
    if vector::sparse::is_sparse_type(c.data_type()) {
        let values = (0..n).map(|i| vector::sparse::get(c.as_struct(), i));
        return Ok(encoded(values, text, |s| s.format(), |s, out| s.send(out)));
    }
    if vector::bit::is_bit_type(c.data_type()) {
        let values = (0..n).map(|i| vector::bit::get(c.as_struct(), i));
        return Ok(encoded(values, text, |b| b.format(), |b, out| b.send(out)));
    }
    let rows = vector::array::Rows::new(&datafusion::logical_expr::ColumnarValue::Array(c.clone()))?;
    let kind = rows.kind();
    let values = (0..n).map(|i| rows.get(i));
    Ok(encoded(values, text, |v| vector::text::format_vector(v), |v, out| vector::binary::send(kind, v, out)))
}

/// Each value as text or in its binary send format.
fn encoded<T>(values: impl Iterator<Item = Option<T>>, text: bool, format: impl Fn(&T) -> String, send: impl Fn(&T, &mut Vec<u8>)) -> (DataType, ArrayRef) {
    if text {
        return (DataType::Utf8, Arc::new(values.map(|v| v.map(|v| format(&v))).collect::<StringArray>()));
    }
    let bytes: arrow::array::BinaryArray = values
        .map(|v| {
            v.map(|v| {
                let mut out = Vec::new();
                send(&v, &mut out);
                out
            })
        })
        .collect();
    (DataType::Binary, Arc::new(bytes))
}

/// Casts a batch to its wire schema. Floats sent as text are formatted here, as PostgreSQL
/// prints them (`4`, not `4.0`; `Infinity`), which `arrow-pg` does not do.
fn to_wire(batch: RecordBatch, schema: &SchemaRef, text: &[bool], tz: chrono_tz::Tz) -> datafusion::error::Result<RecordBatch> {
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, (c, f)) in batch.columns().iter().zip(schema.fields()).enumerate() {
        let own = match marked(f) {
            Some(INTERVAL) => Some(interval_column(c, text[i])?),
            Some(TIMESTAMP | TIMESTAMPTZ) => Some(timestamp_column(c, text[i], tz)?),
            Some(m) if is_vector_marker(m) => Some(vector_column(c, text[i])?),
            Some(INT2VECTOR | OIDVECTOR) => Some(int_vector_column(c, text[i])?),
            Some(m @ ("uuid" | "jsonb")) if !text[i] => Some(binary_text_type(c, m)?),
            Some(m) if char_width(m).is_some() => Some(blank_padded(c, char_width(m).expect("checked"))?),
            _ => None,
        };
        if let Some((t, column)) = own {
            fields.push(Field::new(f.name(), t, true));
            columns.push(column);
            continue;
        }
        let c = if c.data_type() == f.data_type() {
            c.clone()
        } else {
            arrow::compute::cast_with_options(c, f.data_type(), &arrow::compute::CastOptions { safe: false, ..Default::default() })?
        };
        if text[i] && matches!(f.data_type(), DataType::Float32 | DataType::Float64) {
            let strings: StringArray = if f.data_type() == &DataType::Float32 {
                c.as_primitive::<arrow::datatypes::Float32Type>().iter().map(|v| v.map(pg_float4)).collect()
            } else {
                c.as_primitive::<arrow::datatypes::Float64Type>().iter().map(|v| v.map(pg_float8)).collect()
            };
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(strings) as ArrayRef);
        } else if text[i] && is_unconstrained_numeric(f) {
            let scale = quartzdb_planner::types::DEFAULT_NUMERIC.1 as u32;
            let strings: StringArray = c.as_primitive::<arrow::datatypes::Decimal128Type>().iter().map(|v| v.map(|v| quartzdb_planner::numeric_text::trimmed_decimal(v, scale))).collect();
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(strings) as ArrayRef);
        } else if text[i] && is_float_list(f.data_type()) {
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(pg_float_array_text(&c)?) as ArrayRef);
        } else if text[i] && matches!(f.data_type(), DataType::Time32(_) | DataType::Time64(_)) {
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(pg_datetime_text(&c, tz)?) as ArrayRef);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c);
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

fn is_float_list(t: &DataType) -> bool {
    matches!(t, DataType::List(f) if matches!(f.data_type(), DataType::Float32 | DataType::Float64))
}

/// `real[]` and `double precision[]` as PostgreSQL prints them: `{1,2.5,NULL}`.
fn pg_float_array_text(c: &ArrayRef) -> datafusion::error::Result<StringArray> {
    let list = c.as_list::<i32>();
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        if list.is_null(i) {
            out.push(None);
            continue;
        }
        let row = list.value(i);
        let parts: Vec<String> = match row.data_type() {
            DataType::Float32 => row.as_primitive::<arrow::datatypes::Float32Type>().iter().map(|v| v.map_or("NULL".into(), pg_float4)).collect(),
            _ => row.as_primitive::<arrow::datatypes::Float64Type>().iter().map(|v| v.map_or("NULL".into(), pg_float8)).collect(),
        };
        out.push(Some(format!("{{{}}}", parts.join(","))));
    }
    Ok(StringArray::from(out))
}

/// Timestamps and times as PostgreSQL prints them; `timestamptz` in the session time zone.
fn pg_datetime_text(c: &ArrayRef, zone: chrono_tz::Tz) -> datafusion::error::Result<StringArray> {
    use arrow::datatypes::{Time64MicrosecondType, TimestampMicrosecondType, TimeUnit};
    use quartzdb_planner::datetime::output;
    match c.data_type() {
        DataType::Timestamp(_, tz) => {
            let micros = cast(c, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let micros = micros.as_primitive::<TimestampMicrosecondType>();
            Ok(match tz {
                None => micros.iter().map(|v| v.map(output::timestamp)).collect(),
                Some(_) => micros.iter().map(|v| v.map(|us| output::timestamptz(us, zone))).collect(),
            })
        }
        _ => {
            let micros = cast(c, &DataType::Time64(TimeUnit::Microsecond))?;
            Ok(micros.as_primitive::<Time64MicrosecondType>().iter().map(|v| v.map(output::time)).collect())
        }
    }
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
    // Names repeated in a select list carry a suffix DataFusion needs and clients must not see.
    let wire = Schema::new(wire.fields().iter().map(|f| f.as_ref().clone().with_name(quartzdb_planner::names::client_name(f.name()))).collect::<Vec<_>>());
    let mut out = arrow_pg::datatypes::arrow_schema_to_pg_fields(&wire, format, Some(format_options()))?;
    for (f, info) in wire.fields().iter().zip(out.iter_mut()) {
        let (t, modifier) = match (declared_type(f), f.metadata().get(quartzdb_planner::types::PG_TYPE_METADATA).and_then(|n| with_modifier(n))) {
            (Some(t), _) => (t, -1),
            (None, Some((t, modifier))) => (t, modifier),
            (None, None) => (info.datatype().clone(), info.type_modifier()),
        };
        let (table, column) = source(f).unzip();
        *info = FieldInfo::new(info.name().to_string(), table, column, t, info.format())
            .with_format_options(format_options())
            .with_type_size(info.type_size())
            .with_type_modifier(modifier);
    }
    Ok(out)
}

/// The table OID and column number of a result column that is a table's column (see the
/// planner's `declared_types`).
fn source(f: &Field) -> Option<(i32, i16)> {
    let (table, column) = f.metadata().get(quartzdb_planner::types::PG_SOURCE_METADATA)?.split_once('.')?;
    Some((table.parse::<u32>().ok()? as i32, column.parse().ok()?))
}

/// A declared type with a modifier (a table column's, see the planner's `declared_types`) as
/// PostgreSQL describes it: the type and `atttypmod`.
fn with_modifier(type_name: &str) -> Option<(Type, i32)> {
    let (base, args) = type_name.strip_suffix(')')?.split_once('(')?;
    let numbers: Vec<i32> = args.split(',').map(|n| n.trim().parse().ok()).collect::<Option<_>>()?;
    match (base, numbers.as_slice()) {
        ("character varying", [n]) => Some((Type::VARCHAR, n + 4)),
        ("character", [n]) => Some((Type::BPCHAR, n + 4)),
        ("numeric", [p, s]) => Some((Type::NUMERIC, ((p << 16) | s) + 4)),
        _ => None,
    }
}

/// Types Arrow cannot tell apart from text (uuid, json, jsonb) carry their PostgreSQL name in
/// the field's metadata.
fn declared_type(f: &Field) -> Option<Type> {
    match f.metadata().get(quartzdb_planner::types::PG_TYPE_METADATA)?.as_str() {
        "uuid" => Some(Type::UUID),
        "json" => Some(Type::JSON),
        "jsonb" => Some(Type::JSONB),
        "\"char\"" => Some(Type::CHAR),
        // Their OIDs, but not marked as arrays: pgwire would quote the text as an element.
        INT2VECTOR => Some(Type::new(INT2VECTOR.into(), Type::INT2_VECTOR.oid(), postgres_types::Kind::Simple, "pg_catalog".into())),
        OIDVECTOR => Some(Type::new(OIDVECTOR.into(), Type::OID_VECTOR.oid(), postgres_types::Kind::Simple, "pg_catalog".into())),
        OID => Some(Type::OID),
        TIMESTAMP => Some(Type::TIMESTAMP),
        TIMESTAMPTZ => Some(Type::TIMESTAMPTZ),
        INTERVAL => Some(Type::INTERVAL),
        vector::bit::BIT => Some(Type::BIT),
        vector::sparse::SPARSEVEC => Some(sparsevec_pg_type()),
        name if vector::Kind::from_name(name).is_some() => Some(vector_pg_type(vector::Kind::from_name(name).expect("checked"))),
        _ => None,
    }
}

/// pgvector's `vector` or `halfvec` type as the wire reports it (fixed OIDs; see `vector::Kind`).
pub fn vector_pg_type(kind: vector::Kind) -> Type {
    Type::new(kind.name().into(), kind.oid(), postgres_types::Kind::Simple, "public".into())
}

/// pgvector's `sparsevec` as the wire reports it.
pub fn sparsevec_pg_type() -> Type {
    Type::new(vector::sparse::SPARSEVEC.into(), vector::SPARSEVEC_OID, postgres_types::Kind::Simple, "public".into())
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
pub fn response(output: Output, format: &Format, delivery: Delivery) -> PgWireResult<Response> {
    match output {
        Output::Empty => Ok(Response::EmptyQuery),
        // pgwire keeps the transaction status ReadyForQuery reports from these two.
        Output::Command(t) if t.block == Some(true) => Ok(Response::TransactionStart(tag(&t))),
        Output::Command(t) if t.block == Some(false) => Ok(Response::TransactionEnd(tag(&t))),
        Output::Command(t) => Ok(Response::Execution(tag(&t))),
        // The connection starts the COPY itself (it keeps the decoder); never reaches here.
        Output::CopyIn(_) => Err(pgwire::error::PgWireError::ApiError("COPY FROM STDIN outside the connection's handler".into())),
        // The connection sends COPY TO itself (see `copy_out::send`), to count its rows.
        Output::CopyOut(_) => Err(pgwire::error::PgWireError::ApiError("COPY TO STDOUT outside the connection's handler".into())),
        Output::Rows { schema, stream, command } => {
            let fields = Arc::new(fields(&schema, format)?);
            let text: Vec<bool> = (0..schema.fields().len()).map(|i| format.format_for(i) == FieldFormat::Text).collect();
            let encoding = encoding(&fields, &schema, &text);
            let rows = rows(stream, wire_schema(&schema), text, encoding, delivery);
            let mut response = QueryResponse::new(fields, rows);
            // pgwire appends the row count; INSERT … RETURNING's tag also has the OID (0).
            response.command_tag = if command.oid { format!("{} 0", command.command) } else { command.command };
            Ok(Response::Query(response))
        }
    }
}

/// How arrow-pg encodes each column. Columns QuartzDB formats itself are handed to it as plain
/// text, which it writes as is (for an array type it would quote the string).
pub(super) fn encoding(fields: &[FieldInfo], schema: &Schema, text: &[bool]) -> Arc<Vec<FieldInfo>> {
    let encoding = fields
        .iter()
        .zip(schema.fields())
        .zip(text)
        .map(|((info, f), text)| {
            if *text && is_float_list(&wire_type(f.data_type())) {
                FieldInfo::new(info.name().to_string(), None, None, Type::TEXT, info.format()).with_format_options(format_options())
            } else {
                info.clone()
            }
        })
        .collect();
    Arc::new(encoding)
}

type RowIter = Box<dyn Iterator<Item = PgWireResult<DataRow>> + Send>;

/// What a result stream needs while it is sent: the session's time zone, the connection's cancel
/// signal and the statement's deadline, and the flag it sets when it fails after the statement
/// returned (the session then fails an open block, as PostgreSQL does for an error at any
/// point of a statement).
pub struct Delivery {
    pub tz: chrono_tz::Tz,
    pub cancel: Arc<CancelState>,
    pub generation: u64,
    pub deadline: Option<tokio::time::Instant>,
    pub failed: Arc<std::sync::atomic::AtomicBool>,
    /// Keeps the session shown as active until the rows are sent (or the stream is dropped).
    pub busy: quartzdb_planner::activity::Busy,
}

pub(super) fn rows(
    stream: SendableRecordBatchStream,
    schema: SchemaRef,
    text: Vec<bool>,
    fields: Arc<Vec<FieldInfo>>,
    delivery: Delivery,
) -> impl futures::Stream<Item = PgWireResult<DataRow>> + Send + 'static {
    let Delivery { tz, cancel, generation, deadline, failed, busy } = delivery;
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
    .inspect(move |r| {
        let _busy = &busy;
        if r.is_err() {
            failed.store(true, std::sync::atomic::Ordering::Release);
        }
    })
}

/// All result columns in text format (simple query).
pub fn text() -> Format {
    Format::UnifiedText
}
