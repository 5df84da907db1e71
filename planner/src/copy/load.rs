//! Loading a COPY FROM STDIN: each [`Batch`] the wire layer decodes is inserted as it fills, in
//! the COPY's transaction (begun at the first batch, so a small COPY takes the write lock only
//! at its end), and committed once at the end. Memory is bounded by the batch size, not the
//! data's; the versions the batches wrote stay the transaction's own until that commit, so a
//! failed COPY leaves the table unchanged, as in PostgreSQL.
//!
//! A batch that fails is searched for its first bad row (bisecting the batch with the casts and
//! column checks alone, which change nothing), so the error names its line and column as
//! PostgreSQL's CONTEXT does. Unique and foreign key violations are found by storage over the
//! whole batch and keep no line.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::sqlparser::ast::Statement;
use futures::TryStreamExt;
use quartzdb_storage::StorageError;

use super::{Batch, CopyIn};
use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::{Session, WriteTxn};

/// The name a batch is registered under while it is inserted (see [`crate::dml::register_rows`]).
const ROWS: &str = "copy";

/// A COPY FROM STDIN being loaded.
pub struct Load {
    copy: CopyIn,
    /// Per target column, the SQL converting its field (`c0`, `c1`, …) to the column's type.
    casts: Vec<String>,
    /// The transaction, from the first batch inserted to the end.
    txn: Option<WriteTxn>,
    rows: usize,
}

impl Load {
    pub fn new(copy: CopyIn) -> Self {
        let casts = copy
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| crate::types::assignment_sql(t, &format!("c{i}")).unwrap_or_else(|| format!("CAST(c{i} AS {t})")))
            .collect();
        Self { copy, casts, txn: None, rows: 0 }
    }

    pub fn copy(&self) -> &CopyIn {
        &self.copy
    }

    fn select(&self, columns: impl Iterator<Item = usize>) -> String {
        let list: Vec<&str> = columns.map(|i| self.casts[i].as_str()).collect();
        format!("SELECT {} FROM {}.{ROWS}", list.join(", "), crate::dml::ROWS_SCHEMA)
    }
}

impl Session {
    /// Inserts a batch of a COPY's rows in its transaction. On error the transaction has ended
    /// (rolled back, or the block's left to fail) and the error names the bad row where it can.
    pub async fn copy_batch(&mut self, load: &mut Load, batch: Batch) -> Result<()> {
        if batch.rows() == 0 {
            return Ok(());
        }
        let rows = record_batch(batch.columns.clone())?;
        let mut txn = match load.txn.take() {
            Some(txn) => txn,
            None => self.begin_write().await?,
        };
        match self.insert_batch(load, &mut txn, rows.clone()).await {
            Ok(n) => {
                load.txn = Some(txn);
                load.rows += n;
                Ok(())
            }
            Err(error) => {
                let error = self.locate(load, &rows, batch.first_line).await.unwrap_or(error);
                self.end_write(txn, Err(error)).await
            }
        }
    }

    /// Inserts the last batch and commits the COPY: `COPY n`.
    pub async fn copy_end(&mut self, mut load: Load, last: Batch) -> Result<Output> {
        self.copy_batch(&mut load, last).await?;
        if let Some(txn) = load.txn.take() {
            self.end_write(txn, Ok(())).await?;
        }
        Ok(Output::Command(CommandTag::new("COPY").with_rows(load.rows)))
    }

    /// Abandons a COPY (bad data, CopyFail): what its batches wrote is rolled back with its
    /// own transaction; in a block, the caller fails the block.
    pub async fn copy_abort(&mut self, load: &mut Load) {
        if let Some(txn) = load.txn.take() {
            let _ = self.end_write(txn, Err::<(), _>(Error::Internal("COPY abandoned".into()))).await;
        }
    }

    async fn insert_batch(&mut self, load: &Load, txn: &mut WriteTxn, rows: RecordBatch) -> Result<usize> {
        let copy = &load.copy;
        let sql = format!(
            "INSERT INTO {}.{} ({}) {}",
            names::quote_ident(&copy.table.schema),
            names::quote_ident(&copy.table.name),
            copy.columns.iter().map(|c| names::quote_ident(c)).collect::<Vec<_>>().join(", "),
            load.select(0..copy.columns.len()),
        );
        let Some(Statement::Insert(insert)) = quartzdb_sql::parse(&sql)?.pop() else {
            return Err(Error::Internal("COPY produced a statement that is not an INSERT".into()));
        };
        let registered = crate::dml::register_rows(self, ROWS, rows)?;
        let result = crate::dml::insert::execute(self, txn, insert, None).await;
        let _ = registered.deregister_table(ROWS);
        match result? {
            Output::Command(tag) => Ok(tag.rows.unwrap_or(0)),
            other => Err(Error::Internal(format!("COPY's INSERT returned {other:?}"))),
        }
    }

    /// The first row of `rows` whose values do not convert or pass their column's checks, as
    /// an error naming its line and column; `None` when every value does (the batch failed on
    /// a key).
    async fn locate(&mut self, load: &Load, rows: &RecordBatch, first_line: usize) -> Option<Error> {
        if self.converts(load, rows).await {
            return None;
        }
        // Bisect: the first bad row is within [start, start + len).
        let (mut start, mut len) = (0, rows.num_rows());
        while len > 1 {
            let half = len / 2;
            if self.converts(load, &rows.slice(start, half)).await {
                start += half;
                len -= half;
            } else {
                len = half;
            }
        }
        let row = rows.slice(start, 1);
        for column in 0..load.copy.columns.len() {
            let Err(error) = self.convert(load, column, &row).await else { continue };
            let (table, line) = (&load.copy.table.name, first_line + start);
            // A NULL refused by NOT NULL is the row's fault, not its value's (its message names
            // the column).
            if matches!(&error, Error::Storage(StorageError::NotNullViolation { .. })) {
                return Some(Error::InCopy { context: format!("COPY {table}, line {line}"), source: Box::new(error) });
            }
            let name = &load.copy.columns[column];
            let field = row.column(column);
            let value = match field.data_type() {
                DataType::Utf8 if field.is_valid(0) => format!(": \"{}\"", super::decode::shown(field.as_string::<i32>().value(0).as_bytes())),
                _ => String::new(),
            };
            let context = format!("COPY {table}, line {line}, column {name}{value}");
            return Some(Error::InCopy { context, source: Box::new(error) });
        }
        None
    }

    /// Whether every value of `rows` converts and passes its column's checks.
    async fn converts(&mut self, load: &Load, rows: &RecordBatch) -> bool {
        for column in 0..load.copy.columns.len() {
            if self.convert(load, column, rows).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Converts one column of `rows` as the INSERT does, and checks it.
    async fn convert(&mut self, load: &Load, column: usize, rows: &RecordBatch) -> Result<()> {
        let registered = crate::dml::register_rows(self, ROWS, rows.clone())?;
        let result = async {
            let Some(stmt) = quartzdb_sql::parse(&load.select(std::iter::once(column)))?.pop() else {
                return Err(Error::Internal("COPY's check is empty".into()));
            };
            let Output::Rows { stream, .. } = self.run_query(stmt).await? else {
                return Err(Error::Internal("COPY's check returned no rows".into()));
            };
            let batches: Vec<RecordBatch> = stream.try_collect().await?;
            let catalog = self.catalog();
            let meta = catalog.table(self.database(), &load.copy.table)?;
            let name = &load.copy.columns[column];
            let Some(col) = meta.columns.iter().find(|c| &c.name == name) else { return Ok(()) };
            for batch in batches {
                crate::dml::check::conform_column(&load.copy.table.name, col, batch.column(0).clone())?;
            }
            Ok(())
        }
        .await;
        let _ = registered.deregister_table(ROWS);
        result
    }
}

fn record_batch(columns: Vec<arrow::array::ArrayRef>) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns.iter().enumerate().map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}
