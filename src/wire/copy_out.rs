//! COPY TO STDOUT on the wire: CopyOutResponse, one CopyData message per row (the header, or
//! the binary signature, goes out with the first), CopyDone, and `COPY n` counting rows only.
//!
//! The connection sends these itself rather than hand pgwire a `Response::CopyOut`: pgwire's
//! tag counts data messages, so a header with no rows would say `COPY 1`. An error while rows
//! are produced ends the COPY with an ErrorResponse, as PostgreSQL's does. (A COPY TO after
//! other statements of one simple query is left to pgwire, so that it follows their results:
//! there the tag of a header alone is `COPY 1`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{Sink, SinkExt, Stream, StreamExt};
use pgwire::api::results::{CopyResponse, Response, Tag};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::data::DataRow;
use quartzdb_planner::copy::{CopyOut, Format as CopyFormat, encode as frame};

use super::encode::{Delivery, Format, encoding, fields, rows, text, wire_schema};

/// Sends a COPY TO STDOUT's data; the returned response is its command tag.
pub async fn send<C>(client: &mut C, copy: CopyOut, delivery: Delivery) -> PgWireResult<Response>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let counted = Arc::new(AtomicUsize::new(0));
    let response = encoded(copy, delivery, counted.clone())?;
    let column_formats = response.column_formats();
    client.send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(response.format, response.columns as i16, column_formats))).await?;
    let mut data = response.data_stream;
    while let Some(message) = data.next().await {
        client.feed(PgWireBackendMessage::CopyData(message?)).await?;
    }
    client.send(PgWireBackendMessage::CopyDone(CopyDone::new())).await?;
    Ok(Response::Execution(Tag::new("COPY").with_rows(counted.load(Ordering::Acquire))))
}

/// The COPY as a response for pgwire to send (see the module comment).
pub fn response(copy: CopyOut, delivery: Delivery) -> PgWireResult<Response> {
    Ok(Response::CopyOut(encoded(copy, delivery, Arc::default())?))
}

/// The COPY's data messages, counting its rows into `counted`.
fn encoded(copy: CopyOut, delivery: Delivery, counted: Arc<AtomicUsize>) -> PgWireResult<CopyResponse> {
    if copy.options.format == CopyFormat::Binary { binary(copy, delivery, counted) } else { textual(copy, delivery, counted) }
}

/// Text or CSV: each row printed as a text-format result row would be, then framed as a line.
fn textual(copy: CopyOut, delivery: Delivery, counted: Arc<AtomicUsize>) -> PgWireResult<CopyResponse> {
    let CopyOut { schema, stream, options, force_quote } = copy;
    let columns = schema.fields().len();
    let fields = fields(&schema, &text())?;
    let all_text = vec![true; columns];
    let encoding = encoding(&fields, &schema, &all_text);
    let rows = counting(rows(stream, wire_schema(&schema), all_text, encoding, delivery), counted);
    let header = options.header.then(|| {
        let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
        let mut out = Vec::new();
        frame::header(&names, &options, &mut out);
        out
    });
    let lines = with_first(rows, header, move |row, out| {
        frame::line(&data_row_values(row)?, &options, &force_quote, out);
        Ok(())
    });
    Ok(CopyResponse::new(0, columns, lines))
}

/// Binary: a binary-format result row's fields are already COPY's field framing (32-bit
/// length, -1 for NULL, then the value), so each row is its field count and those bytes; the
/// signature and header go first, and pgwire appends the -1 trailer.
fn binary(copy: CopyOut, delivery: Delivery, counted: Arc<AtomicUsize>) -> PgWireResult<CopyResponse> {
    let CopyOut { schema, stream, .. } = copy;
    let columns = schema.fields().len();
    let fields = fields(&schema, &Format::UnifiedBinary)?;
    let binary = vec![false; columns];
    let encoding = encoding(&fields, &schema, &binary);
    let rows = counting(rows(stream, wire_schema(&schema), binary, encoding, delivery), counted);
    let mut header = b"PGCOPY\n\xff\r\n\0".to_vec();
    header.extend_from_slice(&[0; 8]);
    let tuples = with_first(rows, Some(header), |row, out| {
        out.extend_from_slice(&row.field_count.to_be_bytes());
        out.extend_from_slice(&row.data);
        Ok(())
    });
    Ok(CopyResponse::new(1, columns, tuples))
}

fn counting(rows: impl Stream<Item = PgWireResult<DataRow>>, counted: Arc<AtomicUsize>) -> impl Stream<Item = PgWireResult<DataRow>> {
    rows.inspect(move |row| {
        if row.is_ok() {
            counted.fetch_add(1, Ordering::AcqRel);
        }
    })
}

/// One CopyData message per row, written by `write`; `first` (a header) goes out with the
/// first row, or alone when there is none.
fn with_first(
    rows: impl Stream<Item = PgWireResult<DataRow>> + Send + 'static,
    first: Option<Vec<u8>>,
    write: impl Fn(&DataRow, &mut Vec<u8>) -> PgWireResult<()> + Send + 'static,
) -> impl Stream<Item = PgWireResult<CopyData>> + Send + 'static {
    let pending = Arc::new(std::sync::Mutex::new(first));
    let before = pending.clone();
    let lines = rows.map(move |row| {
        let row = row?;
        let mut out = before.lock().expect("header").take().unwrap_or_default();
        write(&row, &mut out)?;
        Ok(CopyData::new(out.into()))
    });
    let alone = futures::stream::once(async move { pending.lock().expect("header").take() }).filter_map(|h| async move { h.map(|h| Ok(CopyData::new(h.into()))) });
    lines.chain(alone)
}

/// The values of an encoded DataRow: `None` for NULL.
fn data_row_values(row: &DataRow) -> PgWireResult<Vec<Option<&[u8]>>> {
    let data = &row.data[..];
    let mut values = Vec::with_capacity(row.field_count.max(0) as usize);
    let mut at = 0;
    let short = || PgWireError::ApiError("short DataRow".into());
    for _ in 0..row.field_count {
        let len = data.get(at..at + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(short)?;
        at += 4;
        if len < 0 {
            values.push(None);
        } else {
            let end = at + len as usize;
            values.push(Some(data.get(at..end).ok_or_else(short)?));
            at = end;
        }
    }
    Ok(values)
}
