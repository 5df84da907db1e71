//! Optimized plans of parameterized queries, reused across executions of the same statement.
//!
//! A prepared `SELECT … ORDER BY embedding <-> $1 LIMIT 10` is planned from SQL and optimized
//! with `$1` still a placeholder; the next execution with other values starts from that plan
//! and only binds and physically plans it. An entry is valid only for the catalog snapshot it
//! was planned against (any commit or DDL makes a new one, since plans hold table versions)
//! and the search settings it captured; entries of older snapshots are dropped at the next
//! lookup. Plans calling stable or volatile functions (`now()`,
//! `random()`, `nextval`) are never cached: optimization folds some of them into constants.
//!
//! Where the parameters can be read at execution ([`crate::param_slots`]), the entry also keeps
//! the physical plan: a later execution refills its slots and runs it as it is, unless an
//! operator that looked at a value while planning refuses the new one, or a stream of the
//! plan's last run is still open (a suspended portal, a cursor); those plan anew.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::common::ParamValues;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_plan::ExecutionPlan;
use quartzdb_storage::ann::VectorIndexScanExec;

use crate::param_slots::ParamSlots;
use crate::vector::top_k::DistanceTopKExec;
use quartzdb_storage::Catalog;
use quartzdb_storage::ann::SearchSettings;

/// Entries kept per session; past it the cache starts over.
const MAX_ENTRIES: usize = 128;

#[derive(Debug, Default)]
pub struct PlanCache {
    entries: HashMap<String, Entry>,
    /// Executions that reused a physical plan (for tests).
    reuses: u64,
}

#[derive(Debug)]
struct Entry {
    catalog: Arc<Catalog>,
    search: SearchSettings,
    plan: LogicalPlan,
    physical: Physical,
}

/// What an entry knows about running its plan without planning it physically again.
#[derive(Debug, Default)]
enum Physical {
    #[default]
    NotTried,
    /// The values decide the plan's shape (see [`crate::param_slots`]).
    Never,
    Ready(ReadyPlan),
}

/// A physical plan reading its parameters from `slots`.
#[derive(Debug, Clone)]
pub struct ReadyPlan {
    pub plan: Arc<dyn ExecutionPlan>,
    pub schema: SchemaRef,
    pub slots: Arc<ParamSlots>,
    /// Held by the streams of the plan's runs: while one is open, the slots are in use.
    pub running: Arc<()>,
}

impl PlanCache {
    /// The optimized plan of `sql`, if one was made against this catalog and these settings.
    /// Entries of older catalogs are dropped: their plans hold table versions that version
    /// cleanup must otherwise keep.
    pub fn get(&mut self, sql: &str, catalog: &Arc<Catalog>, search: &SearchSettings) -> Option<LogicalPlan> {
        self.entries.retain(|_, e| Arc::ptr_eq(&e.catalog, catalog));
        let e = self.entries.get(sql)?;
        (&e.search == search).then(|| e.plan.clone())
    }

    /// Keeps `optimized` for `sql` when the unoptimized `plan` may be reused.
    pub fn insert(&mut self, sql: String, catalog: Arc<Catalog>, search: SearchSettings, plan: &LogicalPlan, optimized: &LogicalPlan) {
        if !reusable(plan) {
            return;
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        self.entries.insert(sql, Entry { catalog, search, plan: optimized.clone(), physical: Physical::NotTried });
    }

    /// The physical plan of `sql` ready to run with `values`, when the entry has one that is
    /// idle and accepts them.
    pub fn physical(&mut self, sql: &str, values: &ParamValues) -> Result<Option<ReadyPlan>> {
        let Some(Entry { physical: Physical::Ready(ready), .. }) = self.entries.get(sql) else { return Ok(None) };
        if Arc::strong_count(&ready.running) > 1 || !ready.slots.set(values) || !rebindable(&ready.plan)? {
            return Ok(None);
        }
        self.reuses += 1;
        Ok(Some(ready.clone()))
    }

    /// Whether making a physical plan with slots is still worth trying for `sql`.
    pub fn physical_untried(&self, sql: &str) -> bool {
        matches!(self.entries.get(sql), Some(Entry { physical: Physical::NotTried, .. }))
    }

    /// Records the physical plan of `sql` (`None`: it cannot be reused).
    pub fn set_physical(&mut self, sql: &str, ready: Option<ReadyPlan>) {
        if let Some(e) = self.entries.get_mut(sql) {
            e.physical = match ready {
                Some(r) => Physical::Ready(r),
                None => Physical::Never,
            };
        }
    }
}

/// Whether every operator of `plan` that looked at a constant while it was planned also answers
/// for the value the constant has now; an index search that holds its query (Lance's scanner)
/// never does.
pub fn rebindable(plan: &Arc<dyn ExecutionPlan>) -> Result<bool> {
    let mut ok = true;
    plan.apply(|node| {
        if let Some(scan) = node.downcast_ref::<VectorIndexScanExec>() {
            ok = scan.rebindable()?;
        } else if let Some(top_k) = node.downcast_ref::<DistanceTopKExec>() {
            ok = top_k.rebindable()?;
        }
        Ok(if ok { TreeNodeRecursion::Continue } else { TreeNodeRecursion::Stop })
    })?;
    Ok(ok)
}

/// Whether every function the plan calls is immutable and no table it reads shows the state of
/// the moment (`pg_stat_activity`, `pg_settings`, …: built when the plan is made).
fn reusable(plan: &LogicalPlan) -> bool {
    let mut immutable = true;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && crate::pg_catalog::PgCatalog::is_live(scan.table_name.table())
        {
            immutable = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e
                    && f.func.signature().volatility != Volatility::Immutable
                {
                    immutable = false;
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(if immutable { TreeNodeRecursion::Continue } else { TreeNodeRecursion::Stop })
    });
    immutable
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, RecordBatch};
    use arrow::datatypes::Int64Type;
    use datafusion::common::{ParamValues, ScalarValue};
    use futures::TryStreamExt;

    use crate::{Engine, Output, Session};

    async fn ids(session: &mut Session, sql: &str, param: Option<ScalarValue>) -> Vec<i64> {
        let stmt = quartzdb_sql::parse(sql).unwrap().pop().unwrap();
        let Output::Rows { stream, .. } = session.execute(stmt, param.map(|p| ParamValues::List(vec![p.into()]))).await.unwrap() else { panic!("{sql}") };
        let batches: Vec<RecordBatch> = stream.try_collect().await.unwrap();
        batches.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect()
    }

    async fn run(session: &mut Session, sql: &str) {
        for stmt in quartzdb_sql::parse(sql).unwrap() {
            session.execute(stmt, None).await.unwrap();
        }
    }

    fn row(i: i64) -> [f64; 2] {
        [i as f64, ((i * 37) % 101) as f64 / 10.0]
    }

    /// The 3 nearest ids to `q` by brute force.
    fn nearest(q: [f64; 2]) -> Vec<i64> {
        let mut all: Vec<(f64, i64)> = (0..300).map(|i| (((row(i)[0] - q[0]).powi(2) + (row(i)[1] - q[1]).powi(2)), i)).collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        all.iter().take(3).map(|p| p.1).collect()
    }

    #[tokio::test]
    async fn prepared_vector_searches_reuse_one_physical_plan() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).await.unwrap();
        let mut s = engine.session("quartz", "quartz", 1).unwrap();
        let values: Vec<String> = (0..300).map(|i| format!("({i}, '[{},{}]')", row(i)[0], row(i)[1])).collect();
        run(&mut s, &format!("CREATE TABLE docs (id bigint, embedding vector(2)); INSERT INTO docs VALUES {}", values.join(","))).await;
        // Every list probed: the index search is exhaustive, so its answers are exact.
        run(&mut s, "SET quartz.exact_search_below = 0; CREATE INDEX ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 2); SET ivfflat.probes = 2").await;
        let sql = "SELECT id FROM docs ORDER BY embedding <-> $1::vector LIMIT 3";
        let text = |q: [f64; 2]| ScalarValue::Utf8(Some(format!("[{},{}]", q[0], q[1])));
        for n in 0..6 {
            let q = [n as f64 * 41.5, 5.05];
            assert_eq!(ids(&mut s, sql, Some(text(q))).await, nearest(q), "query {q:?}");
        }
        assert_eq!(s.plan_cache().reuses, 5, "the first execution planned, the others reused that plan");
        // A NULL query orders by NULL (any 3 rows); the plan made for vectors is not used for it.
        assert_eq!(ids(&mut s, sql, Some(ScalarValue::Utf8(None))).await.len(), 3);
        assert_eq!(s.plan_cache().reuses, 5);
        let q = [100.0, 0.0];
        assert_eq!(ids(&mut s, sql, Some(text(q))).await, nearest(q));
        assert_eq!(s.plan_cache().reuses, 6);
        // Exact searches (no index) reuse their plan too, and stay exact.
        run(&mut s, "SET enable_indexscan = off").await;
        for n in 0..3 {
            let q = [n as f64 * 77.7, 2.0];
            assert_eq!(ids(&mut s, sql, Some(text(q))).await, nearest(q), "exact query {q:?}");
        }
        assert_eq!(s.plan_cache().reuses, 8);
    }

    #[tokio::test]
    async fn a_limit_parameter_keeps_planning_each_execution() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).await.unwrap();
        let mut s = engine.session("quartz", "quartz", 1).unwrap();
        run(&mut s, "CREATE TABLE t (id bigint); INSERT INTO t VALUES (1), (2), (3)").await;
        for n in 1..=3 {
            assert_eq!(ids(&mut s, "SELECT id FROM t ORDER BY id LIMIT $1", Some(ScalarValue::Int64(Some(n)))).await.len(), n as usize);
        }
        assert_eq!(s.plan_cache().reuses, 0);
    }
}
