//! Statement results to wire messages: Arrow batches become DataRows through `arrow-pg`, command
//! tags become CommandComplete.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use pgwire::api::Type;
use pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
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

fn to_wire(batch: RecordBatch, schema: &SchemaRef) -> datafusion::error::Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| if c.data_type() == f.data_type() { Ok(c.clone()) } else { cast(c, f.data_type()) })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
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
pub fn response(output: Output, format: &Format, cancel: Arc<CancelState>, generation: u64) -> PgWireResult<Response> {
    match output {
        Output::Empty => Ok(Response::EmptyQuery),
        Output::Command(t) => Ok(Response::Execution(tag(&t))),
        Output::Rows { schema, stream, command } => {
            let fields = Arc::new(fields(&schema, format)?);
            let rows = rows(stream, wire_schema(&schema), fields.clone(), cancel, generation);
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
    fields: Arc<Vec<FieldInfo>>,
    cancel: Arc<CancelState>,
    generation: u64,
) -> impl futures::Stream<Item = PgWireResult<DataRow>> + Send + 'static {
    let state = (stream, None::<RowIter>, false);
    futures::stream::unfold(state, move |(mut stream, mut current, done)| {
        let schema = schema.clone();
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
                    next = stream.next() => next,
                };
                match next {
                    None => return None,
                    Some(Err(e)) => return Some((Err(to_pgwire(&e)), (stream, None, true))),
                    Some(Ok(batch)) => match to_wire(batch, &schema) {
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

