//! Indexes: CREATE INDEX, DROP INDEX, REINDEX, and folding new rows into indexes.
//!
//! An index is a Lance index in its table's dataset; creating, dropping or rebuilding one
//! commits a new Lance version that is published with the catalog's [`IndexMeta`] in one
//! catalog write, like any other change. Rows written after a build are not in the index until
//! it is folded: Lance searches those fragments exactly meanwhile, so they are always found.
//! Folding happens after writes once enough rows are unindexed, and at VACUUM and REINDEX.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::DataType;
use lance::dataset::Dataset;
use lance::index::{DatasetIndexExt, DatasetIndexInternalExt};
use lance_index::IndexParams;
use lance_index::optimize::OptimizeOptions;

use crate::progress::BuildProgress;
use crate::catalog::{IndexMeta, QualifiedName, TableMeta};
use crate::error::{Error, Result};
use crate::index_spec::{self, IndexMethod, MIN_TRAINING_ROWS, Metric};
use crate::store::{Storage, table_schema};
use crate::txn::Txn;

/// Unindexed rows after a write beyond which the table's indexes are folded: at least this many,
/// and at least [`FOLD_FRACTION`] of the table.
const FOLD_AT_ROWS: usize = 2_000;
const FOLD_FRACTION: f64 = 0.05;

/// An index to create, as the planner read it from `CREATE INDEX`.
#[derive(Debug, Clone)]
pub struct NewIndex {
    pub name: Option<String>,
    pub column: String,
    /// Further columns of a scalar index (see [`IndexMeta::more_columns`]).
    pub more_columns: Vec<String>,
    pub method: IndexMethod,
    pub opclass: Option<String>,
    pub options: BTreeMap<String, i64>,
}

impl Storage {
    /// Creates an index for backend `pid`; returns its name, or `None` when `if_not_exists`
    /// found one.
    pub async fn create_index(&self, txn: &mut Txn, db: &str, table: &QualifiedName, index: NewIndex, if_not_exists: bool, pid: i32) -> Result<Option<String>> {
        let catalog = txn.catalog();
        let meta = catalog.table(db, table)?.clone();
        let dataset = self.txn_dataset(txn, &meta).await?;
        let schema = table_schema(&dataset);
        let field = schema.field_with_name(&index.column).map_err(|_| Error::UnknownColumn { table: table.name.clone(), column: index.column.clone() })?;
        let (opclass, metric) = resolve_opclass(&index, field.data_type())?;
        index.method.validate(&index.options)?;
        if !index.more_columns.is_empty() && index.method.is_vector() {
            return Err(Error::Unsupported(format!("{} indexes on more than one column", index.method.name())));
        }
        for c in &index.more_columns {
            schema.field_with_name(c).map_err(|_| Error::UnknownColumn { table: table.name.clone(), column: c.clone() })?;
        }
        let name = match index.name {
            Some(n) => n,
            None => {
                let columns: Vec<&str> = std::iter::once(&index.column).chain(&index.more_columns).map(String::as_str).collect();
                free_name(|n| catalog.relation_exists(db, &QualifiedName::new(&table.schema, n)).unwrap_or(true), &table.name, &columns.join("_"))
            }
        };
        if catalog.relation_exists(db, &QualifiedName::new(&table.schema, &name))? {
            return if if_not_exists { Ok(None) } else { Err(Error::DuplicateTable(name)) };
        }
        let mut entry = IndexMeta {
            oid: 0,
            name: name.clone(),
            column: index.column,
            more_columns: index.more_columns,
            method: index.method,
            opclass,
            metric,
            options: index.options,
            lance_name: format!("quartz_{}", uuid::Uuid::new_v4().simple()),
            comment: None,
        };
        let ds = self.build_index(Builder { pid, database: db, command: "CREATE INDEX" }, &meta, dataset, &entry, false).await?;
        txn.update(|c| {
            entry.oid = c.allocate_oid();
            c.table_mut(db, table)?.indexes.push(entry);
            Ok(())
        })?;
        txn.set_dataset(db, table, ds)?;
        Ok(Some(name))
    }

    /// Drops an index by name; false when it did not exist and `if_exists` was given.
    pub async fn drop_index(&self, txn: &mut Txn, db: &str, name: &QualifiedName, if_exists: bool) -> Result<bool> {
        let catalog = txn.catalog();
        let Some((table, meta, index)) = catalog.index(db, &name.schema, &name.name)? else {
            return if if_exists { Ok(false) } else { Err(Error::UnknownIndex(name.name.clone())) };
        };
        let table = QualifiedName::new(&name.schema, table);
        let dataset = self.txn_dataset(txn, meta).await?;
        self.prepare_commit(meta, &dataset).await?;
        let mut ds = (*dataset).clone();
        ds.drop_index(&index.lance_name).await?;
        txn.update(|c| {
            c.table_mut(db, &table)?.indexes.retain(|i| i.name != name.name);
            Ok(())
        })?;
        txn.set_dataset(db, &table, Arc::new(ds))?;
        Ok(true)
    }

    /// `REINDEX INDEX | TABLE name`: rebuilds (and retrains) the index of that name, or every
    /// index of the table of that name.
    pub async fn reindex(&self, txn: &mut Txn, db: &str, name: &QualifiedName, pid: i32) -> Result<()> {
        let catalog = txn.catalog();
        let (table_name, index) = match catalog.index(db, &name.schema, &name.name)? {
            Some((table, _, _)) => (table.clone(), Some(name.name.as_str())),
            None => (name.name.clone(), None),
        };
        let qname = QualifiedName::new(&name.schema, &table_name);
        let meta = catalog.table(db, &qname)?.clone();
        for entry in meta.indexes.iter().filter(|i| index.is_none_or(|n| n == i.name)) {
            let meta = txn.catalog().table(db, &qname)?.clone();
            let dataset = self.txn_dataset(txn, &meta).await?;
            let ds = self.build_index(Builder { pid, database: db, command: "REINDEX" }, &meta, dataset, entry, true).await?;
            txn.set_dataset(db, &qname, ds)?;
        }
        Ok(())
    }

    /// Builds `entry` on `dataset` and commits it (replacing an index of the same Lance name
    /// when `replace`); the caller records the returned version in its transaction. The build
    /// shows in `pg_stat_progress_create_index` while it runs (see [`crate::progress`]).
    async fn build_index(&self, by: Builder<'_>, meta: &TableMeta, dataset: Arc<Dataset>, entry: &IndexMeta, replace: bool) -> Result<Arc<Dataset>> {
        let (_on_board, progress) = self.builds.start(BuildProgress {
            pid: by.pid,
            database: by.database.to_string(),
            table_oid: meta.oid,
            command: by.command,
            phase: "initializing".into(),
            ..Default::default()
        });
        self.prepare_commit(meta, &dataset).await?;
        let rows = dataset.count_rows(None).await?;
        let dims = match table_schema(&dataset).field_with_name(&entry.column).map(|f| f.data_type().clone()) {
            Ok(DataType::FixedSizeList(_, n)) => n as usize,
            _ => 0,
        };
        let build = index_spec::build_params(entry.method, entry.metric, &entry.options, rows, dims)?;
        let params: &dyn IndexParams = match (&build.vector, &build.scalar) {
            (Some(v), _) => v,
            (_, Some(s)) => s,
            _ => return Err(Error::Internal("index without parameters".into())),
        };
        let mut ds = (*dataset).clone();
        let started = std::time::Instant::now();
        ds.create_index_builder(&[entry.column.as_str()], build.index_type, params)
            .name(entry.lance_name.clone())
            .replace(replace)
            .train(build.train)
            .progress(progress)
            .await?;
        tracing::info!(index = %entry.name, method = entry.method.name(), rows, trained = build.train, elapsed_ms = started.elapsed().as_millis() as u64, "built index");
        Ok(Arc::new(ds))
    }

    /// Folds unindexed rows into the table's indexes (training those built on too few rows).
    /// With `force` (VACUUM) any unindexed row is folded; otherwise only past the thresholds.
    pub(crate) async fn fold_indexes(&self, txn: &mut Txn, db: &str, name: &QualifiedName, force: bool) -> Result<()> {
        let meta = txn.catalog().table(db, name)?.clone();
        if meta.indexes.is_empty() {
            return Ok(());
        }
        for entry in &meta.indexes {
            let meta = txn.catalog().table(db, name)?.clone();
            let dataset = self.txn_dataset(txn, &meta).await?;
            let total = dataset.count_rows(None).await?;
            let unindexed: usize = dataset.unindexed_fragments(&entry.lance_name).await?.iter().map(|f| f.num_rows().unwrap_or(0)).sum();
            if unindexed == 0 {
                continue;
            }
            let untrained = unindexed == total;
            let ds = if entry.method.is_vector() && untrained {
                if total < MIN_TRAINING_ROWS {
                    continue;
                }
                self.build_index(Builder { pid: 0, database: db, command: "REINDEX" }, &meta, dataset, entry, true).await?
            } else {
                if !force && (unindexed < FOLD_AT_ROWS || (unindexed as f64) < FOLD_FRACTION * total as f64) {
                    continue;
                }
                self.prepare_commit(&meta, &dataset).await?;
                let mut ds = (*dataset).clone();
                ds.optimize_indices(&OptimizeOptions::append().index_names(vec![entry.lance_name.clone()])).await?;
                Arc::new(ds)
            };
            tracing::debug!(table = %name, index = %entry.name, unindexed, "folded new rows into the index");
            txn.set_dataset(db, name, ds)?;
        }
        Ok(())
    }
}

/// The operator class and distance of a new index, checked against the column's type.
/// Who runs a build, for the progress view.
struct Builder<'a> {
    pid: i32,
    database: &'a str,
    command: &'static str,
}

fn resolve_opclass(index: &NewIndex, column_type: &DataType) -> Result<(Option<String>, Option<Metric>)> {
    let element = match column_type {
        DataType::FixedSizeList(f, _) => Some(f.data_type().clone()),
        _ => None,
    };
    let is_vector = matches!(element, Some(DataType::Float32 | DataType::Float16));
    if !index.method.is_vector() {
        if is_vector || matches!(column_type, DataType::LargeList(_) | DataType::List(_) | DataType::Struct(_)) {
            return Err(Error::Unsupported(format!("{} indexes on column \"{}\" of this type", index.method.name(), index.column)));
        }
        return Ok((index.opclass.clone(), None));
    }
    let half = match (&element, column_type) {
        (Some(DataType::Float32), _) => false,
        (Some(DataType::Float16), _) => true,
        (_, DataType::LargeList(f)) if matches!(f.data_type(), DataType::Float32 | DataType::Float16) => {
            return Err(Error::IndexTypeMismatch("column does not have dimensions".into()));
        }
        _ => {
            return Err(Error::Unsupported(format!(
                "{} indexes on column \"{}\": QuartzDB's vector indexes take vector(n) and halfvec(n) columns",
                index.method.name(),
                index.column
            )));
        }
    };
    let opclass = index.opclass.clone().unwrap_or_else(|| if half { "halfvec_l2_ops".into() } else { "vector_l2_ops".into() });
    let (metric, opclass_half) = index_spec::opclass(&opclass, index.method)?;
    if opclass_half != half {
        let type_name = if half { "halfvec" } else { "vector" };
        return Err(Error::IndexTypeMismatch(format!("operator class \"{opclass}\" does not accept data type {type_name}")));
    }
    Ok((Some(opclass.to_ascii_lowercase()), Some(metric)))
}

/// PostgreSQL's name for an unnamed index: `table_column_idx`, then `…idx1`, `…idx2`.
fn free_name(taken: impl Fn(&str) -> bool, table: &str, column: &str) -> String {
    let base = format!("{table}_{column}_idx");
    if !taken(&base) {
        return base;
    }
    (1..).map(|i| format!("{base}{i}")).find(|n| !taken(n)).expect("some name is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_indexes_are_named_like_postgres() {
        assert_eq!(free_name(|_| false, "docs", "embedding"), "docs_embedding_idx");
        assert_eq!(free_name(|n| n == "docs_embedding_idx", "docs", "embedding"), "docs_embedding_idx1");
    }
}
