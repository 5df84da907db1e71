//! `x IN (SELECT …)` outside WHERE, with an uncorrelated subquery: a SELECT list's `CASE WHEN
//! quote_ident(table_schema) IN (SELECT … search_path …)` (Grafana's table list). DataFusion
//! turns IN subqueries into joins only in filters, so here the subquery's values are gathered
//! once, into one row joined to the projection's input: the array of values and whether one is
//! NULL. (Not as scalar subqueries: DataFusion 54 loses the nodes above a projection whose
//! scalar subqueries read another's.) The result keeps SQL's three-valued IN: true when `x` is
//! among them, NULL when `x` is NULL or a value is NULL and none matched, false otherwise (also
//! for no values at all).

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::{array_agg, bool_or};
use datafusion::functions_nested::expr_fn::{array_has, cardinality};
use datafusion::logical_expr::expr::InSubquery;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Projection, lit, when};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct InSubqueryValues;

impl AnalyzerRule for InSubqueryValues {
    fn name(&self) -> &str {
        "quartz_in_subquery_values"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let mut count = 0usize;
        plan.transform_up_with_subqueries(|node| {
            let LogicalPlan::Projection(p) = &node else { return Ok(Transformed::no(node)) };
            let is_target = |e: &Expr| matches!(e, Expr::InSubquery(InSubquery { subquery, .. }) if is_target_subquery(subquery));
            if !p.expr.iter().any(|e| e.exists(|e| Ok(is_target(e))).unwrap_or(false)) {
                return Ok(Transformed::no(node));
            }
            let mut input = p.input.as_ref().clone();
            let mut changed = false;
            let mut exprs = Vec::with_capacity(p.expr.len());
            for e in &p.expr {
                let name = e.schema_name().to_string();
                let rewritten = e.clone().transform_up(|e| match e {
                    Expr::InSubquery(InSubquery { expr, subquery, negated }) if is_target_subquery(&subquery) => {
                        let (values, has_null) = (format!("__quartz_in_values_{count}"), format!("__quartz_in_null_{count}"));
                        count += 1;
                        let column = Expr::Column(subquery.subquery.schema().columns()[0].clone());
                        let gathered = LogicalPlanBuilder::from(subquery.subquery.as_ref().clone())
                            .aggregate(Vec::<Expr>::new(), vec![array_agg(column.clone()).alias(&values), bool_or(column.is_null()).alias(&has_null)])?
                            .build()?;
                        // The one gathered row on the build side; the rows stream past it.
                        input = LogicalPlanBuilder::from(gathered).cross_join(input.clone())?.build()?;
                        let found = values_test(*expr, Expr::Column(Column::from_name(values)), Expr::Column(Column::from_name(has_null)))?;
                        Ok(Transformed::yes(if negated { !found } else { found }))
                    }
                    e => Ok(Transformed::no(e)),
                })?;
                changed |= rewritten.transformed;
                exprs.push(if rewritten.transformed { rewritten.data.unalias().alias(name) } else { rewritten.data });
            }
            if !changed {
                return Ok(Transformed::no(node));
            }
            Ok(Transformed::yes(LogicalPlan::Projection(Projection::try_new(exprs, std::sync::Arc::new(input))?)))
        })
        .data()
    }
}

/// The IN subqueries rewritten here: uncorrelated ones (DataFusion's own rules take the rest).
fn is_target_subquery(subquery: &datafusion::logical_expr::Subquery) -> bool {
    subquery.outer_ref_columns.is_empty()
}

/// Whether `expr` is among the gathered `values` (NULL when it is not, but `values` has NULL).
fn values_test(expr: Expr, values: Expr, has_null: Expr) -> Result<Expr> {
    let unknown = || lit(ScalarValue::Boolean(None));
    Ok(when(values.clone().is_null().or(cardinality(values.clone()).eq(lit(0u64))), lit(false))
        .when(expr.clone().is_null(), unknown())
        .when(array_has(values, expr), lit(true))
        .when(has_null, unknown())
        .otherwise(lit(false))?)
}
