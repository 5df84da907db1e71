//! Cursors: `DECLARE name [SCROLL | NO SCROLL] CURSOR [WITH | WITHOUT HOLD] FOR query`,
//! `FETCH` and `MOVE` in every direction PostgreSQL has, `CLOSE name | ALL`, as psycopg's named
//! cursors, SQLAlchemy's `yield_per` and psql users use them.
//!
//! A cursor keeps its query's running stream: FETCH pulls only the rows it needs, so a large
//! result is read in bounded memory. The query reads the table versions of the moment it was
//! declared. Position follows PostgreSQL's portal: before the first row, on row k, or after the
//! last. A SCROLL cursor keeps the rows it has read, so it can move backward and to any row;
//! any other cursor moves forward only and forgets rows behind it, and a motion that would go
//! back gets PostgreSQL's 55000 (PostgreSQL allows backward moves without SCROLL for some
//! plans; QuartzDB never does). A cursor without HOLD lives until its block ends; one WITH
//! HOLD survives the COMMIT of the block that declared it (not its ROLLBACK).

use std::collections::HashMap;

use arrow::array::{RecordBatch, UInt32Array};
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
    scroll: bool,
    /// Rows read from the stream and still kept, in order: all of them for a SCROLL cursor,
    /// else only those not returned yet. `kept_from` is the number of the first (from 0).
    kept: Vec<RecordBatch>,
    kept_from: usize,
    /// Rows read from the stream so far, and whether it has ended (then `read` is the count).
    read: usize,
    exhausted: bool,
    /// PostgreSQL's position: 0 before the first row, k on row k, `read + 1` after the last.
    position: usize,
    hold: bool,
    /// Declared in the block still open (undone by its ROLLBACK).
    in_block: bool,
}

/// A FETCH or MOVE direction as a motion of the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Motion {
    /// The next n rows (`usize::MAX` for ALL); 0 re-reads the current row.
    Forward(usize),
    /// The previous n rows, nearest first; 0 re-reads the current row.
    Backward(usize),
    /// Row n from the start (n > 0), from the end (n < 0), or before the first (0).
    Absolute(i64),
    Relative(i64),
}

impl Cursor {
    /// Reads from the stream until `rows` rows have been read or it ends. A cursor that does not
    /// scroll keeps only rows from `keep_from` (numbered from 0) as it reads, so skipping ahead
    /// holds at most one batch.
    async fn read_to(&mut self, rows: usize, keep_from: usize) -> Result<()> {
        while self.read < rows && !self.exhausted {
            match self.stream.get_mut().next().await {
                Some(batch) => {
                    let batch = batch?;
                    self.read += batch.num_rows();
                    self.kept.push(batch);
                    self.forget_before(keep_from);
                }
                None => self.exhausted = true,
            }
        }
        Ok(())
    }

    /// Rows `from..to` (numbered from 0), which must be kept.
    fn rows(&self, from: usize, to: usize) -> Vec<RecordBatch> {
        let mut out = Vec::new();
        let mut start = self.kept_from;
        for b in &self.kept {
            let end = start + b.num_rows();
            let (lo, hi) = (from.max(start), to.min(end));
            if lo < hi {
                out.push(b.slice(lo - start, hi - lo));
            }
            start = end;
        }
        out
    }

    /// Forgets rows before `row` (numbered from 0) unless the cursor scrolls.
    fn forget_before(&mut self, row: usize) {
        if self.scroll {
            return;
        }
        while let Some(first) = self.kept.first() {
            let n = first.num_rows();
            if self.kept_from + n > row {
                let drop = row.saturating_sub(self.kept_from);
                if drop > 0 {
                    self.kept[0] = first.slice(drop, n - drop);
                    self.kept_from += drop;
                }
                break;
            }
            self.kept.remove(0);
            self.kept_from += n;
        }
    }

    /// The target row of an absolute or relative move, as a position (0 before the first,
    /// `read + 1` after the last); reads what it needs.
    async fn seek(&mut self, target: i64) -> Result<usize> {
        if target <= 0 {
            return Ok(0);
        }
        let target = usize::try_from(target).unwrap_or(usize::MAX);
        self.read_to(target, target - 1).await?;
        Ok(if target <= self.read { target } else { self.read + 1 })
    }

    /// Moves; returns the rows passed over or landed on, in the order FETCH returns them (only
    /// when `want_rows`: MOVE needs just their count), and their count.
    async fn step(&mut self, motion: Motion, want_rows: bool) -> Result<(Vec<RecordBatch>, usize)> {
        let backward = match motion {
            Motion::Backward(_) | Motion::Forward(0) => true,
            Motion::Relative(n) => n <= 0,
            Motion::Absolute(n) => n <= 0 || n as usize <= self.position,
            Motion::Forward(_) => false,
        };
        if backward && !self.scroll {
            return Err(Error::CursorNoScroll);
        }
        let out = match motion {
            Motion::Forward(0) | Motion::Backward(0) | Motion::Relative(0) => {
                let p = self.position;
                if p >= 1 && p <= self.read { (self.rows(p - 1, p), 1) } else { (vec![], 0) }
            }
            Motion::Forward(n) => {
                // The next row is number position + 1 from 1, so position from 0.
                let from = self.position;
                let want = from.saturating_add(n);
                self.read_to(want, if want_rows { from } else { want }).await?;
                let to = want.min(self.read);
                let rows = if from < to && want_rows { self.rows(from, to) } else { vec![] };
                self.position = if want <= self.read { want } else { self.read + 1 };
                (rows, to.saturating_sub(from))
            }
            Motion::Backward(n) => {
                // The row before the current one is number position - 1 (from 1).
                let p = self.position;
                let count = n.min(p.saturating_sub(1));
                let rows = if count == 0 { vec![] } else { reversed(self.rows(p - 1 - count, p - 1))? };
                self.position = p.saturating_sub(n);
                (rows, count)
            }
            Motion::Absolute(n) => {
                let target = if n < 0 {
                    self.read_to(usize::MAX, usize::MAX).await?;
                    (self.read as i64 + 1).saturating_add(n)
                } else {
                    n
                };
                self.land(target).await?
            }
            Motion::Relative(n) => {
                let target = (self.position as i64).saturating_add(n);
                self.land(target).await?
            }
        };
        self.forget_before(self.position);
        Ok(out)
    }

    /// Moves to row `target` (from 1) and returns it, if it exists.
    async fn land(&mut self, target: i64) -> Result<(Vec<RecordBatch>, usize)> {
        self.position = self.seek(target).await?;
        let p = self.position;
        Ok(if p >= 1 && p <= self.read { (self.rows(p - 1, p), 1) } else { (vec![], 0) })
    }
}

/// Rows in reverse order, as FETCH BACKWARD returns them.
fn reversed(batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::with_capacity(batches.len());
    for b in batches.into_iter().rev() {
        let indices = UInt32Array::from_iter_values((0..b.num_rows() as u32).rev());
        let columns = b.columns().iter().map(|c| arrow::compute::take(c, &indices, None)).collect::<std::result::Result<Vec<_>, _>>()?;
        out.push(RecordBatch::try_new(b.schema(), columns)?);
    }
    Ok(out)
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
    pub fn declare(&mut self, name: &str, schema: SchemaRef, stream: SendableRecordBatchStream, scroll: bool, hold: bool, in_block: bool) -> Result<()> {
        if self.open.contains_key(name) {
            return Err(Error::DuplicateCursor(name.to_string()));
        }
        let cursor = Cursor {
            schema,
            stream: tokio::sync::Mutex::new(stream),
            scroll,
            kept: Vec::new(),
            kept_from: 0,
            read: 0,
            exhausted: false,
            position: 0,
            hold,
            in_block,
        };
        self.open.insert(name.to_string(), cursor);
        Ok(())
    }

    /// The columns a FETCH from `name` returns (for Describe).
    pub fn schema(&self, name: &str) -> Result<SchemaRef> {
        self.open.get(name).map(|c| c.schema.clone()).ok_or_else(|| Error::UnknownCursor(name.to_string()))
    }

    /// `FETCH` (the rows) or `MOVE` (only their count, in the tag) in `direction`.
    pub async fn fetch(&mut self, name: &str, direction: &FetchDirection, is_move: bool) -> Result<Output> {
        let motion = motion(direction)?;
        let cursor = self.open.get_mut(name).ok_or_else(|| Error::UnknownCursor(name.to_string()))?;
        let (rows, count) = cursor.step(motion, !is_move).await?;
        if is_move {
            return Ok(Output::Command(CommandTag::new("MOVE").with_rows(count)));
        }
        let schema = cursor.schema.clone();
        let stream = futures::stream::iter(rows.into_iter().map(Ok)).boxed();
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

fn motion(direction: &FetchDirection) -> Result<Motion> {
    let number = |v: &Value| -> Result<i64> {
        match v {
            Value::Number(n, _) => n.parse::<i64>().map_err(|_| Error::Syntax(format!("FETCH count {n}"))),
            other => Err(Error::Syntax(format!("FETCH count {other}"))),
        }
    };
    // A negative count runs the other way, as in PostgreSQL.
    let forward = |n: i64| if n >= 0 { Motion::Forward(n as usize) } else { Motion::Backward(n.unsigned_abs() as usize) };
    Ok(match direction {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Motion::Forward(1),
        FetchDirection::Prior | FetchDirection::Backward { limit: None } => Motion::Backward(1),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => forward(number(&limit.value)?),
        FetchDirection::Backward { limit: Some(limit) } => match forward(number(&limit.value)?) {
            Motion::Forward(n) => Motion::Backward(n),
            Motion::Backward(n) => Motion::Forward(n),
            other => other,
        },
        FetchDirection::All | FetchDirection::ForwardAll => Motion::Forward(usize::MAX),
        FetchDirection::BackwardAll => Motion::Backward(usize::MAX),
        FetchDirection::First => Motion::Absolute(1),
        FetchDirection::Last => Motion::Absolute(-1),
        FetchDirection::Absolute { limit } => Motion::Absolute(number(&limit.value)?),
        FetchDirection::Relative { limit } => Motion::Relative(number(&limit.value)?),
    })
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

    /// What `sql` (a FETCH or MOVE) returns: the values, or for MOVE the count as one value.
    async fn run(cursors: &mut Cursors, sql: &str) -> Result<Vec<i32>> {
        let stmt = quartzdb_sql::parse(sql).unwrap().pop().unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Fetch { name, direction, .. } = &stmt else { panic!("{sql}") };
        match cursors.fetch(&name.value, direction, quartzdb_sql::is_move(&stmt)).await? {
            Output::Rows { stream, .. } => {
                let batches: Vec<RecordBatch> = stream.map(|b| b.unwrap()).collect().await;
                Ok(batches.iter().flat_map(|b| b.column(0).as_any().downcast_ref::<Int32Array>().unwrap().values().to_vec()).collect())
            }
            Output::Command(tag) => Ok(vec![tag.rows.unwrap() as i32]),
            _ => panic!("{sql}"),
        }
    }

    #[tokio::test]
    async fn fetch_moves_forward_across_batches() {
        let mut c = Cursors::default();
        let (schema, stream) = cursor(vec![vec![1, 2, 3], vec![4, 5], vec![6]]);
        c.declare("c", schema, stream, false, false, true).unwrap();
        assert_eq!(run(&mut c, "FETCH 2 FROM c").await.unwrap(), [1, 2]);
        assert_eq!(run(&mut c, "FETCH FORWARD 3 FROM c").await.unwrap(), [3, 4, 5]);
        assert_eq!(run(&mut c, "FETCH NEXT FROM c").await.unwrap(), [6]);
        assert_eq!(run(&mut c, "FETCH ALL FROM c").await.unwrap(), Vec::<i32>::new());
        for backward in ["FETCH PRIOR FROM c", "FETCH 0 FROM c", "FETCH RELATIVE 0 FROM c", "FETCH LAST FROM c", "MOVE ABSOLUTE 0 IN c", "FETCH BACKWARD 1 c", "FETCH -1 FROM c"] {
            assert!(matches!(run(&mut c, backward).await, Err(Error::CursorNoScroll)), "{backward}");
        }
        assert!(matches!(c.fetch("nope", &FetchDirection::Next, false).await, Err(Error::UnknownCursor(_))));
        c.end_block(true);
        assert!(matches!(c.close(Some("c")), Err(Error::UnknownCursor(_))), "a cursor without HOLD ends with its block");
    }

    #[tokio::test]
    async fn forward_only_cursors_skip_forward_and_forget_what_they_passed() {
        let mut c = Cursors::default();
        let (schema, stream) = cursor(vec![vec![1, 2, 3], vec![4, 5], vec![6]]);
        c.declare("c", schema, stream, false, false, true).unwrap();
        assert_eq!(run(&mut c, "FETCH ABSOLUTE 3 FROM c").await.unwrap(), [3]);
        assert_eq!(run(&mut c, "MOVE RELATIVE 2 IN c").await.unwrap(), [1]);
        assert_eq!(run(&mut c, "FETCH c").await.unwrap(), [6]);
        let open = &c.open["c"];
        assert_eq!((open.kept_from, open.kept.iter().map(RecordBatch::num_rows).sum::<usize>()), (6, 0));
        // Skipping ahead keeps at most the batch being read, whatever the distance.
        let (schema, stream) = cursor(vec![vec![1, 2], vec![3, 4], vec![5, 6], vec![7]]);
        c.declare("d", schema, stream, false, false, true).unwrap();
        assert_eq!(run(&mut c, "MOVE FORWARD 5 IN d").await.unwrap(), [5]);
        assert!(c.open["d"].kept.iter().map(RecordBatch::num_rows).sum::<usize>() <= 2);
        assert_eq!(run(&mut c, "FETCH RELATIVE 9223372036854775807 FROM d").await.unwrap(), Vec::<i32>::new());
        assert_eq!(run(&mut c, "MOVE ALL IN d").await.unwrap(), [0]);
    }

    #[tokio::test]
    async fn scroll_cursors_move_as_postgresql_does() {
        // The same statements against PostgreSQL 15 on `SELECT generate_series(1, 5)`.
        let mut c = Cursors::default();
        let (schema, stream) = cursor(vec![vec![1, 2], vec![3, 4, 5]]);
        c.declare("c", schema, stream, true, false, true).unwrap();
        let steps: &[(&str, &[i32])] = &[
            ("FETCH 2 FROM c", &[1, 2]),
            ("FETCH 0 FROM c", &[2]),
            ("FETCH BACKWARD 5 FROM c", &[1]),
            ("FETCH ABSOLUTE -2 FROM c", &[4]),
            ("FETCH RELATIVE -1 FROM c", &[3]),
            ("MOVE FORWARD ALL IN c", &[2]),
            ("FETCH PRIOR FROM c", &[5]),
            ("FETCH RELATIVE 10 FROM c", &[]),
            ("MOVE BACKWARD 100 IN c", &[5]),
            ("FETCH FIRST FROM c", &[1]),
            ("FETCH ABSOLUTE 0 FROM c", &[]),
            ("MOVE ABSOLUTE 9 IN c", &[0]),
            ("MOVE RELATIVE -2 IN c", &[1]),
            ("FETCH BACKWARD ALL FROM c", &[3, 2, 1]),
            ("MOVE LAST IN c", &[1]),
            ("MOVE 0 IN c", &[1]),
            ("FETCH -2 FROM c", &[4, 3]),
            ("FETCH RELATIVE 9223372036854775807 FROM c", &[]),
            ("FETCH PRIOR FROM c", &[5]),
        ];
        for (sql, want) in steps {
            assert_eq!(run(&mut c, sql).await.unwrap(), *want, "{sql}");
        }
    }
}
