//! Index builds in progress, for `pg_stat_progress_create_index`, and their cancellation.
//!
//! Lance reports a build's stages (training the IVF centroids, then the quantizer, assigning
//! rows to partitions, building and writing the partitions) through `IndexBuildProgress`; each
//! running build has a row on the server-wide [`BuildBoard`] that the view reads.
//!
//! The same callback stops a cancelled build. Cancelling a statement (CancelRequest,
//! `statement_timeout`) drops its future, and with it the build's [`BuildGuard`]; Lance's next
//! report then fails, so work Lance runs on its own threads stops at that point instead of
//! finishing a build nobody will commit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lance_index::progress::IndexBuildProgress;

/// One build, as `pg_stat_progress_create_index` shows it.
#[derive(Debug, Clone, Default)]
pub struct BuildProgress {
    /// The backend running it (0 for background maintenance).
    pub pid: i32,
    pub database: String,
    pub table_oid: u32,
    /// `CREATE INDEX` or `REINDEX`.
    pub command: &'static str,
    /// PostgreSQL's phase names (`building index: …`).
    pub phase: String,
    pub tuples_total: u64,
    pub tuples_done: u64,
    pub partitions_total: u64,
    pub partitions_done: u64,
}

/// The builds running now.
#[derive(Debug, Default)]
pub struct BuildBoard {
    builds: Mutex<BTreeMap<u64, BuildProgress>>,
    next: AtomicU64,
}

impl BuildBoard {
    pub fn snapshot(&self) -> Vec<BuildProgress> {
        self.builds.lock().expect("build board").values().cloned().collect()
    }

    /// Puts `row` on the board until the returned guard is dropped; the reporter is what Lance
    /// calls.
    pub(crate) fn start(self: &Arc<Self>, row: BuildProgress) -> (BuildGuard, Arc<dyn IndexBuildProgress>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.builds.lock().expect("build board").insert(id, row);
        let cancelled = Arc::new(AtomicBool::new(false));
        let reporter = Reporter { board: self.clone(), id, cancelled: cancelled.clone() };
        (BuildGuard { board: self.clone(), id, cancelled }, Arc::new(reporter))
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut BuildProgress)) {
        if let Some(row) = self.builds.lock().expect("build board").get_mut(&id) {
            f(row);
        }
    }
}

/// Keeps a build on the board; dropping it (the build ended, or its statement was cancelled)
/// takes it off and makes Lance's next progress report fail.
pub(crate) struct BuildGuard {
    board: Arc<BuildBoard>,
    id: u64,
    cancelled: Arc<AtomicBool>,
}

impl Drop for BuildGuard {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.board.builds.lock().expect("build board").remove(&self.id);
    }
}

#[derive(Debug)]
struct Reporter {
    board: Arc<BuildBoard>,
    id: u64,
    cancelled: Arc<AtomicBool>,
}

impl Reporter {
    fn check(&self) -> lance::Result<()> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(lance::Error::io("index build cancelled".to_string()));
        }
        Ok(())
    }
}

/// PostgreSQL's wording for Lance's stage names (ivfflat's phases where they match).
fn phase(stage: &str) -> String {
    let what = match stage {
        "train_ivf" => "performing k-means",
        "train_quantizer" => "training quantizer",
        "shuffle" => "assigning tuples",
        "merge_partitions" => "building partitions",
        "load_data" => "scanning table",
        other => other,
    };
    format!("building index: {what}")
}

#[async_trait]
impl IndexBuildProgress for Reporter {
    async fn stage_start(&self, stage: &str, total: Option<u64>, unit: &str) -> lance::Result<()> {
        self.check()?;
        self.board.update(self.id, |row| {
            row.phase = phase(stage);
            match unit {
                "rows" => (row.tuples_total, row.tuples_done) = (total.unwrap_or(0), 0),
                "partitions" => (row.partitions_total, row.partitions_done) = (total.unwrap_or(0), 0),
                _ => {}
            }
        });
        Ok(())
    }

    async fn stage_progress(&self, stage: &str, completed: u64) -> lance::Result<()> {
        self.check()?;
        self.board.update(self.id, |row| match stage {
            "shuffle" | "load_data" => row.tuples_done = completed,
            "merge_partitions" => row.partitions_done = completed,
            _ => {}
        });
        Ok(())
    }

    async fn stage_complete(&self, _stage: &str) -> lance::Result<()> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> BuildProgress {
        BuildProgress { pid: 7, database: "quartz".into(), table_oid: 16384, command: "CREATE INDEX", phase: "initializing".into(), ..Default::default() }
    }

    #[tokio::test]
    async fn stages_show_on_the_board_and_a_dropped_guard_stops_the_build() {
        let board = Arc::new(BuildBoard::default());
        let (guard, reporter) = board.start(row());
        reporter.stage_start("shuffle", Some(1000), "rows").await.unwrap();
        reporter.stage_progress("shuffle", 250).await.unwrap();
        let rows = board.snapshot();
        assert_eq!((rows[0].phase.as_str(), rows[0].tuples_total, rows[0].tuples_done), ("building index: assigning tuples", 1000, 250));
        reporter.stage_start("merge_partitions", Some(16), "partitions").await.unwrap();
        reporter.stage_progress("merge_partitions", 3).await.unwrap();
        assert_eq!((board.snapshot()[0].partitions_total, board.snapshot()[0].partitions_done), (16, 3));
        drop(guard);
        assert!(board.snapshot().is_empty());
        assert!(reporter.stage_progress("merge_partitions", 4).await.is_err(), "a cancelled build's next report fails");
    }
}
