//! Optimized plans of parameterized queries, reused across executions of the same statement.
//!
//! A prepared `SELECT … ORDER BY embedding <-> $1 LIMIT 10` is planned from SQL and optimized
//! with `$1` still a placeholder; the next execution with other values starts from that plan
//! and only binds and physically plans it. An entry is valid only for the catalog snapshot it
//! was planned against (any commit or DDL makes a new one, since plans hold table versions)
//! and the search settings it captured; entries of older snapshots are dropped at the next
//! lookup. Plans calling stable or volatile functions (`now()`,
//! `random()`, `nextval`) are never cached: optimization folds some of them into constants.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use quartzdb_storage::Catalog;
use quartzdb_storage::ann::SearchSettings;

/// Entries kept per session; past it the cache starts over.
const MAX_ENTRIES: usize = 128;

#[derive(Debug, Default)]
pub struct PlanCache {
    entries: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    catalog: Arc<Catalog>,
    search: SearchSettings,
    plan: LogicalPlan,
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
        self.entries.insert(sql, Entry { catalog, search, plan: optimized.clone() });
    }
}

/// Whether every function the plan calls is immutable.
fn reusable(plan: &LogicalPlan) -> bool {
    let mut immutable = true;
    let _ = plan.apply_with_subqueries(|node| {
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
