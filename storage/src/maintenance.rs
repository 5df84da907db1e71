//! Keeping tables fast and small under many small writes: compaction and version cleanup.
//!
//! Every autocommit INSERT adds a Lance fragment and a version. After a commit that leaves a
//! table with [`COMPACT_AT_FRAGMENTS`] or more fragments, its small fragments are rewritten into
//! one (and deleted rows materialized); every [`CLEANUP_EVERY_COMMITS`] commits, files of
//! versions older than the published one are deleted. `VACUUM` does both at once.
//!
//! Cleanup must not delete files a running query still reads: each dataset handed to a reader
//! is an `Arc`, and cleanup waits until no reader holds a dataset older than the published one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use lance::dataset::Dataset;
use lance::dataset::cleanup::CleanupPolicyBuilder;
use lance::dataset::optimize::{CompactionOptions, compact_files};

use crate::catalog::QualifiedName;
use crate::error::Result;
use crate::store::{Storage, WriteGuard};

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

    /// True when no reader holds an older version of the table.
    fn readers_gone(&self, oid: u32) -> bool {
        let mut tables = self.tables.lock().expect("maintenance");
        let Some(state) = tables.get_mut(&oid) else { return true };
        state.retired.retain(|w| w.strong_count() > 0);
        state.retired.is_empty()
    }

    fn cleaned(&self, oid: u32) {
        self.tables.lock().expect("maintenance").entry(oid).or_default().commits_since_cleanup = 0;
    }

    pub(crate) fn forget(&self, oid: u32) {
        self.tables.lock().expect("maintenance").remove(&oid);
    }
}

impl Storage {
    /// Runs after a table's write: compacts it when it has many fragments, and cleans up old
    /// versions when due. Failures are logged, never reported to the writer, whose statement
    /// has already committed.
    pub(crate) async fn maintain(&self, g: &WriteGuard<'_>, db: &str, name: &QualifiedName, force: bool) {
        if let Err(e) = self.try_maintain(g, db, name, force).await {
            tracing::warn!(table = %name, error = %e, "table maintenance failed");
        }
    }

    async fn try_maintain(&self, _g: &WriteGuard<'_>, db: &str, name: &QualifiedName, force: bool) -> Result<()> {
        let meta = self.catalog().table(db, name)?.clone();
        let dataset = self.dataset(&meta).await?;
        let fragments = dataset.get_fragments().len();
        let mut published = dataset.clone();
        if force || fragments >= COMPACT_AT_FRAGMENTS {
            self.prepare_commit(&meta, &dataset).await?;
            let mut ds = (*dataset).clone();
            let metrics = compact_files(&mut ds, CompactionOptions::default(), None).await?;
            if ds.version().version != meta.version {
                tracing::debug!(table = %name, removed = metrics.fragments_removed, added = metrics.fragments_added, "compacted");
                published = self.publish(db, name, meta.oid, ds)?;
            }
        }
        if (force || self.maintenance.cleanup_due(meta.oid)) && self.maintenance.readers_gone(meta.oid) {
            let policy = CleanupPolicyBuilder::default().before_timestamp(chrono_now()).delete_unverified(true).build();
            let stats = published.cleanup_with_policy(policy).await?;
            tracing::debug!(table = %name, old_versions = stats.old_versions, bytes = stats.bytes_removed, "cleaned up");
            self.maintenance.cleaned(meta.oid);
        }
        Ok(())
    }

    /// `VACUUM [table, …]`: compacts and cleans up the tables (all of the database's if none).
    pub async fn vacuum(&self, g: &WriteGuard<'_>, db: &str, names: &[QualifiedName]) -> Result<()> {
        let names: Vec<QualifiedName> = if names.is_empty() {
            let catalog = self.catalog();
            let database = catalog.database(db)?;
            database
                .schemas
                .iter()
                .flat_map(|(s, meta)| meta.tables.keys().map(move |t| QualifiedName::new(s, t)))
                .collect()
        } else {
            for n in names {
                self.catalog().table(db, n)?;
            }
            names.to_vec()
        };
        for name in &names {
            self.try_maintain(g, db, name, true).await?;
        }
        Ok(())
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
