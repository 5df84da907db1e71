//! Cursors: `DECLARE name [NO SCROLL] CURSOR [WITH | WITHOUT HOLD] FOR query`, `FETCH [FORWARD]
//! [n | ALL | NEXT] FROM name`, `CLOSE name | ALL`, as psycopg's named cursors and SQLAlchemy's
//! `yield_per` use them.
//!
//! A cursor keeps its query's running stream: FETCH pulls only the rows it returns, so a large
//! result is read in bounded memory. The query reads the table versions of the moment it was
//! declared. Cursors move forward only (PostgreSQL's NO SCROLL); FETCH BACKWARD, PRIOR,
//! ABSOLUTE and RELATIVE get PostgreSQL's 55000. A cursor without HOLD lives until its block
//! ends; one WITH HOLD survives the COMMIT of the block that declared it (not its ROLLBACK).

use std::collections::HashMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::sqlparser::ast::{FetchDirection, Value};
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};

struct Cursor {
    schema: SchemaRef,
    /// Behind a lock only so the session stays `Sync` (a stream is not); one statement uses it.
    stream: tokio::sync::Mutex<SendableRecordBatchStream>,
    /// Rows of the last batch pulled that no FETCH has returned yet.
    pending: Option<RecordBatch>,
    hold: bool,
    /// Declared in the block still open (undone by its ROLLBACK).
    in_block: bool,
}

#[derive(Default)]
pub struct Cursors {
    open: HashMap<String, Cursor>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursors").field("open", &self.open.keys().collect::<Vec<_>>()).finish()
    }
}

impl Cursors {
    /// `DECLARE`: 42P03 when the name is taken.
    pub fn declare(&mut self, name: &str, schema: SchemaRef, stream: SendableRecordBatchStream, hold: bool, in_block: bool) -> Result<()> {
        if self.open.contains_key(name) {
            return Err(Error::DuplicateCursor(name.to_string()));
        }
        self.open.insert(name.to_string(), Cursor { schema, stream: tokio::sync::Mutex::new(stream), pending: None, hold, in_block });
        Ok(())
    }

    /// The columns a FETCH from `name` returns (for Describe).
    pub fn schema(&self, name: &str) -> Result<SchemaRef> {
        self.open.get(name).map(|c| c.schema.clone()).ok_or_else(|| Error::UnknownCursor(name.to_string()))
    }

    /// `FETCH`: the next rows of the cursor, as many as the direction asks (all that are left
    /// for ALL).
    pub async fn fetch(&mut self, name: &str, direction: &FetchDirection) -> Result<Output> {
        let wanted = rows_wanted(direction)?;
        let cursor = self.open.get_mut(name).ok_or_else(|| Error::UnknownCursor(name.to_string()))?;
        let stream = cursor.stream.get_mut();
        let mut out = Vec::new();
        let mut have = 0usize;
        while have < wanted {
            let batch = match cursor.pending.take() {
                Some(b) => b,
                None => match stream.next().await {
                    Some(b) => b?,
                    None => break,
                },
            };
            let take = (wanted - have).min(batch.num_rows());
            if take < batch.num_rows() {
                cursor.pending = Some(batch.slice(take, batch.num_rows() - take));
            }
            have += take;
            out.push(batch.slice(0, take));
        }
        let schema = cursor.schema.clone();
        let stream = futures::stream::iter(out.into_iter().map(Ok)).boxed();
        Ok(Output::Rows {
            schema: schema.clone(),
            stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
            command: CommandTag::new("FETCH"),
        })
    }

    /// `CLOSE name`, or every cursor for `None` (`CLOSE ALL`); 34000 for an unknown name.
    pub fn close(&mut self, name: Option<&str>) -> Result<()> {
        match name {
            None => self.open.clear(),
            Some(n) => {
                self.open.remove(n).ok_or_else(|| Error::UnknownCursor(n.to_string()))?;
            }
        }
        Ok(())
    }

    /// The end of a block: cursors without HOLD close; WITH HOLD ones stay after COMMIT and
    /// close after ROLLBACK when the block declared them.
    pub fn end_block(&mut self, committed: bool) {
        self.open.retain(|_, c| c.hold && (committed || !c.in_block));
        for c in self.open.values_mut() {
            c.in_block = false;
        }
    }
}

fn rows_wanted(direction: &FetchDirection) -> Result<usize> {
    let count = |v: &Value| -> Result<usize> {
        match v {
            Value::Number(n, _) => n.parse::<i64>().ok().filter(|n| *n >= 0).map(|n| n as usize).ok_or(Error::CursorNoScroll),
            other => Err(Error::Syntax(format!("FETCH count {other}"))),
        }
    };
    match direction {
        FetchDirection::Next => Ok(1),
        FetchDirection::Count { limit } => count(&limit.value),
        FetchDirection::Forward { limit: None } => Ok(1),
        FetchDirection::Forward { limit: Some(l) } => count(&l.value),
        FetchDirection::All | FetchDirection::ForwardAll => Ok(usize::MAX),
        _ => Err(Error::CursorNoScroll),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};

    fn cursor(rows: Vec<Vec<i32>>) -> (SchemaRef, SendableRecordBatchStream) {
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let batches: Vec<datafusion::error::Result<RecordBatch>> =
            rows.into_iter().map(|r| Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(r))]).unwrap())).collect();
        (schema.clone(), Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::iter(batches))))
    }

    async fn fetched(cursors: &mut Cursors, name: &str, sql: &str) -> Vec<i32> {
        let Some(datafusion::sql::sqlparser::ast::Statement::Fetch { direction, .. }) = quartzdb_sql::parse(sql).unwrap().pop() else { panic!("{sql}") };
        let Output::Rows { stream, .. } = cursors.fetch(name, &direction).await.unwrap() else { panic!() };
        let batches: Vec<RecordBatch> = stream.map(|b| b.unwrap()).collect().await;
        batches.iter().flat_map(|b| b.column(0).as_any().downcast_ref::<Int32Array>().unwrap().values().to_vec()).collect()
    }

    #[tokio::test]
    async fn fetch_moves_forward_across_batches() {
        let mut c = Cursors::default();
        let (schema, stream) = cursor(vec![vec![1, 2, 3], vec![4, 5], vec![6]]);
        c.declare("c", schema, stream, false, true).unwrap();
        assert_eq!(fetched(&mut c, "c", "FETCH 2 FROM c").await, [1, 2]);
        assert_eq!(fetched(&mut c, "c", "FETCH FORWARD 3 FROM c").await, [3, 4, 5]);
        assert_eq!(fetched(&mut c, "c", "FETCH NEXT FROM c").await, [6]);
        assert_eq!(fetched(&mut c, "c", "FETCH ALL FROM c").await, Vec::<i32>::new());
        assert!(matches!(c.fetch("c", &FetchDirection::Prior).await, Err(Error::CursorNoScroll)));
        assert!(matches!(c.fetch("nope", &FetchDirection::Next).await, Err(Error::UnknownCursor(_))));
        c.end_block(true);
        assert!(matches!(c.close(Some("c")), Err(Error::UnknownCursor(_))), "a cursor without HOLD ends with its block");
    }
}
