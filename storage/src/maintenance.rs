//! Keeping tables fast and small under many small writes: compaction and version cleanup.
//!
//! Every autocommit INSERT adds a Lance fragment and a version. After a commit that leaves a
//! table with [`COMPACT_AT_FRAGMENTS`] or more fragments, its small fragments are rewritten into
//! one (and deleted rows materialized); every [`CLEANUP_EVERY_COMMITS`] commits, files of
//! versions older than the published one are deleted, and rows written since an index was built
//! are folded into it once there are enough of them. `VACUUM` does all three at once.
//!
//! Cleanup must not delete files a running query still reads: each dataset handed to a reader
//! is an `Arc`, and cleanup keeps every version from the oldest one a reader still holds.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};

use lance::dataset::Dataset;
use lance::dataset::cleanup::CleanupPolicyBuilder;
use lance::dataset::optimize::{CompactionOptions, compact_files};

use crate::catalog::QualifiedName;
use crate::error::Result;
use crate::store::Storage;
use crate::txn::Txn;

/// Fragment count at which a table is compacted after a write.
pub const COMPACT_AT_FRAGMENTS: usize = 24;
/// Commits between cleanups of old versions.
pub const CLEANUP_EVERY_COMMITS: usize = 32;

#[derive(Default)]
pub(crate) struct Maintenance {
    tables: Mutex<HashMap<u32, TableState>>,
}

#[derive(Default)]
struct TableState {
    commits_since_cleanup: usize,
    /// Datasets of superseded versions that readers may still hold.
    retired: Vec<Weak<Dataset>>,
}

impl Maintenance {
    pub(crate) fn wrote(&self, oid: u32) {
        self.tables.lock().expect("maintenance").entry(oid).or_default().commits_since_cleanup += 1;
    }

    pub(crate) fn retire(&self, oid: u32, dataset: &Arc<Dataset>) {
        let mut tables = self.tables.lock().expect("maintenance");
        let state = tables.entry(oid).or_default();
        state.retired.retain(|w| w.strong_count() > 0);
        state.retired.push(Arc::downgrade(dataset));
    }

    fn cleanup_due(&self, oid: u32) -> bool {
        self.tables.lock().expect("maintenance").get(&oid).map(|s| s.commits_since_cleanup >= CLEANUP_EVERY_COMMITS).unwrap_or(false)
    }

    /// The commit time of the oldest superseded version some reader still holds: versions
    /// from then on must keep their files.
    fn oldest_read(&self, oid: u32) -> Option<chrono::DateTime<chrono::Utc>> {
        let mut tables = self.tables.lock().expect("maintenance");
        let state = tables.get_mut(&oid)?;
        state.retired.retain(|w| w.strong_count() > 0);
        state.retired.iter().filter_map(Weak::upgrade).map(|d| d.version().timestamp).min()
    }

    fn cleaned(&self, oid: u32) {
        self.tables.lock().expect("maintenance").entry(oid).or_default().commits_since_cleanup = 0;
    }

    pub(crate) fn forget(&self, oid: u32) {
        self.tables.lock().expect("maintenance").remove(&oid);
    }
}

impl Storage {
    /// Runs after a commit, in `txn` (restarted on the published catalog, so the write lock is
    /// still held): compacts written tables that have many fragments and folds new rows into
    /// their indexes, publishes that, then deletes old versions where due or where VACUUM asked.
    /// Failures are logged, never reported to the writer, whose statement has committed.
    pub(crate) async fn maintain(&self, txn: &mut Txn, written: &BTreeSet<u32>, vacuumed: &BTreeSet<u32>) {
        let catalog = txn.catalog();
        let tables: Vec<(u32, String, QualifiedName)> =
            written.union(vacuumed).filter_map(|oid| catalog.table_name(*oid).map(|(db, name)| (*oid, db, name))).collect();
        for (oid, db, name) in &tables {
            if !vacuumed.contains(oid)
                && let Err(e) = self.compact_and_fold(txn, db, name, false).await
            {
                tracing::warn!(table = %name, error = %e, "table maintenance failed");
            }
        }
        if let Err(e) = self.publish_txn(txn) {
            tracing::warn!(error = %e, "publishing table maintenance failed");
            return;
        }
        for (oid, db, name) in &tables {
            if (vacuumed.contains(oid) || self.maintenance.cleanup_due(*oid))
                && let Err(e) = self.cleanup(db, name).await
            {
                tracing::warn!(table = %name, error = %e, "cleaning up old versions failed");
            }
        }
    }

    /// Compacts the table when it has many fragments (always with `force`) and folds unindexed
    /// rows into its indexes, as new versions of `txn`.
    async fn compact_and_fold(&self, txn: &mut Txn, db: &str, name: &QualifiedName, force: bool) -> Result<()> {
        let meta = txn.catalog().table(db, name)?.clone();
        let dataset = self.txn_dataset(txn, &meta).await?;
        let fragments = dataset.get_fragments().len();
        if force || fragments >= COMPACT_AT_FRAGMENTS {
            self.prepare_commit(&meta, &dataset).await?;
            let mut ds = (*dataset).clone();
            let metrics = compact_files(&mut ds, CompactionOptions::default(), None).await?;
            if ds.version().version != meta.version {
                tracing::debug!(table = %name, removed = metrics.fragments_removed, added = metrics.fragments_added, "compacted");
                txn.set_dataset(db, name, Arc::new(ds))?;
            }
        }
        drop(dataset);
        self.fold_indexes(txn, db, name, force).await
    }

    /// Deletes the files of versions older than the published one that no reader still holds.
    async fn cleanup(&self, db: &str, name: &QualifiedName) -> Result<()> {
        let meta = self.catalog().table(db, name)?.clone();
        let published = self.dataset(&meta).await?;
        let before = self.maintenance.oldest_read(meta.oid).map_or_else(chrono::Utc::now, |t| t.min(chrono::Utc::now()));
        let policy = CleanupPolicyBuilder::default().before_timestamp(before).delete_unverified(true).build();
        let stats = published.cleanup_with_policy(policy).await?;
        tracing::debug!(table = %name, old_versions = stats.old_versions, bytes = stats.bytes_removed, "cleaned up");
        self.maintenance.cleaned(meta.oid);
        Ok(())
    }

    /// `VACUUM [table, …]`: compacts the tables (all of the database's if none) and folds their
    /// indexes in `txn`; their old versions are deleted once it commits.
    pub async fn vacuum(&self, txn: &mut Txn, db: &str, names: &[QualifiedName]) -> Result<()> {
        let catalog = txn.catalog();
        let names: Vec<QualifiedName> = if names.is_empty() {
            let database = catalog.database(db)?;
            database
                .schemas
                .iter()
                .flat_map(|(s, meta)| meta.tables.keys().map(move |t| QualifiedName::new(s, t)))
                .collect()
        } else {
            for n in names {
                catalog.table(db, n)?;
            }
            names.to_vec()
        };
        for name in &names {
            self.compact_and_fold(txn, db, name, true).await?;
            txn.vacuumed.insert(txn.catalog().table(db, name)?.oid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::catalog::ColumnMeta;
    use crate::store::{NewTable, RowChange};

    fn files_under(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_small_writes_stay_compact_and_keep_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).await.unwrap();
        let name = QualifiedName::new("public", "t");
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        let column = ColumnMeta { name: "id".into(), type_name: "bigint".into(), not_null: false, default: None, generated_always: false, comment: None };
        {
            let mut txn = storage.begin().await;
            let table = NewTable { columns: vec![column], constraints: vec![], schema: schema.clone(), sequences: vec![], foreign_keys: vec![], checks: vec![] };
            storage.create_table(&mut txn, "quartz", &name, table, false).await.unwrap();
            storage.commit(txn).await.unwrap();
        }
        let writes = 3 * COMPACT_AT_FRAGMENTS as i64;
        for i in 0..writes {
            let mut txn = storage.begin().await;
            let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![i]))]).unwrap();
            storage.commit_rows(&mut txn, "quartz", &name, RowChange { inserted: vec![batch], ..Default::default() }).await.unwrap();
            storage.commit(txn).await.unwrap();
        }
        storage.idle().await;
        let meta = storage.catalog().table("quartz", &name).unwrap().clone();
        let dataset = storage.dataset(&meta).await.unwrap();
        assert!(dataset.get_fragments().len() < COMPACT_AT_FRAGMENTS, "{} fragments", dataset.get_fragments().len());
        assert_eq!(dataset.count_rows(None).await.unwrap(), writes as usize);
        drop(dataset);

        let mut txn = storage.begin().await;
        storage.vacuum(&mut txn, "quartz", &[]).await.unwrap();
        storage.commit(txn).await.unwrap();
        let meta = storage.catalog().table("quartz", &name).unwrap().clone();
        let table_dir = dir.path().join("tables").join(&meta.dir);
        let dataset = storage.dataset(&meta).await.unwrap();
        assert_eq!(dataset.get_fragments().len(), 1, "VACUUM leaves one fragment");
        assert_eq!(dataset.count_rows(None).await.unwrap(), writes as usize);
        assert!(files_under(&table_dir.join("_versions")) <= 2, "old versions were cleaned up");
        assert!(files_under(&table_dir.join("data")) <= 2, "old data files were cleaned up");
    }
}
