//! ORDER BY expressions holding a subquery (Grafana's table list sorts by `CASE WHEN
//! quote_ident(table_schema) IN (SELECT … search_path …) THEN 0 ELSE 1 END`): DataFusion plans
//! subqueries only in projections, filters, joins and aggregates, so this analyzer rule computes
//! such a sort key in a projection below the sort, sorts on that column, and projects it away.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Sort, SortExpr};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct SortSubqueries;

fn has_subquery(e: &Expr) -> bool {
    e.exists(|e| Ok(matches!(e, Expr::InSubquery(_) | Expr::Exists(_) | Expr::ScalarSubquery(_) | Expr::SetComparison(_)))).unwrap_or(false)
}

impl AnalyzerRule for SortSubqueries {
    fn name(&self) -> &str {
        "quartz_sort_subqueries"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let LogicalPlan::Sort(sort) = &node else { return Ok(Transformed::no(node)) };
            if !sort.expr.iter().any(|s| has_subquery(&s.expr)) {
                return Ok(Transformed::no(node));
            }
            let Sort { expr, input, fetch } = sort.clone();
            let kept: Vec<Expr> = input.schema().columns().into_iter().map(Expr::Column).collect();
            let mut computed = kept.clone();
            let mut keys = Vec::with_capacity(expr.len());
            for (i, s) in expr.into_iter().enumerate() {
                if has_subquery(&s.expr) {
                    let name = format!("__quartz_sort_key_{i}");
                    computed.push(s.expr.alias(&name));
                    keys.push(SortExpr { expr: Expr::Column(datafusion::common::Column::from_name(name)), ..s });
                } else {
                    keys.push(s);
                }
            }
            let sorted = LogicalPlanBuilder::from(input.as_ref().clone()).project(computed)?.sort_with_limit(keys, fetch)?.project(kept)?.build()?;
            Ok(Transformed::yes(sorted))
        })
        .data()
    }
}
