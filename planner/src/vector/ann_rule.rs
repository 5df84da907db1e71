//! [`AnnRule`]: `ORDER BY <distance>(col, q) LIMIT k` over a table with a matching vector index
//! becomes an ANN scan of that table, with the Sort and Limit kept above it.
//!
//! It fires on `Sort(fetch = k)` whose single key is ascending `l2_distance` (`<->`),
//! `vector_negative_inner_product` (`<#>`) or `cosine_distance` (`<=>`) of a column and a
//! constant, when only Projections, Filters and aliases stand between the Sort and the table
//! scan, the table has an index on that column built for that distance, and every filter was
//! pushed into the scan (the ANN scan then prefilters with them, so k rows come back whenever
//! k rows match). It does not fire for DESC, other sort expressions or several keys, no LIMIT,
//! joins, aggregates or windows below the Sort, filters the scan cannot evaluate, a query that
//! reads a column, or a metric no index has: those stay exact. Distances shown to the user are
//! always computed above the scan by QuartzDB's functions.

use std::sync::Arc;

use datafusion::catalog::default_table_source::{provider_as_source, source_as_provider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use arrow::datatypes::DataType;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::error::Result;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan, TableScan};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use quartzdb_storage::LanceTable;
use quartzdb_storage::index_spec::Metric;

#[derive(Debug, Default)]
pub struct AnnRule;

impl OptimizerRule for AnnRule {
    fn name(&self) -> &str {
        "ann_rule"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Sort(sort) = &plan else { return Ok(Transformed::no(plan)) };
        let (Some(k), [key]) = (sort.fetch, sort.expr.as_slice()) else { return Ok(Transformed::no(plan)) };
        if !key.asc {
            return Ok(Transformed::no(plan));
        }
        let Some(found) = find_scan(&key.expr, &sort.input)? else { return Ok(Transformed::no(plan)) };
        let Some((metric, column, query)) = distance_call(&found.key) else { return Ok(Transformed::no(plan)) };
        let provider = source_as_provider(&found.scan.source)?;
        let Some(table) = provider.downcast_ref::<LanceTable>() else { return Ok(Transformed::no(plan)) };
        if table.is_ann() || found.scan.fetch.is_some() {
            return Ok(Transformed::no(plan));
        }
        let Some(index) = table.vector_index(&column, metric) else { return Ok(Transformed::no(plan)) };
        let pushed: Vec<Expr> = found.scan.filters.iter().map(unqualified).collect();
        if !found.filters.iter().all(|f| pushed.contains(&unqualified(f))) {
            return Ok(Transformed::no(plan));
        }
        let ann = Arc::new(table.nearest(index, metric, as_vector(query), k));
        let target = found.scan.table_name.clone();
        let input = Arc::unwrap_or_clone(sort.input.clone()).transform_up(|node| match node {
            LogicalPlan::TableScan(scan) if scan.table_name == target => {
                Ok(Transformed::yes(LogicalPlan::TableScan(TableScan { source: provider_as_source(ann.clone()), ..scan })))
            }
            other => Ok(Transformed::no(other)),
        })?;
        let mut sort = sort.clone();
        sort.input = Arc::new(input.data);
        Ok(Transformed::yes(LogicalPlan::Sort(sort)))
    }
}

/// The table scan under a Sort, with the sort key rewritten in the scan's columns and the
/// filters met on the way.
struct Found<'a> {
    scan: &'a TableScan,
    key: Expr,
    filters: Vec<Expr>,
}

fn find_scan<'a>(key: &Expr, mut node: &'a LogicalPlan) -> Result<Option<Found<'a>>> {
    // A key the select list also computes arrives with that column's name as an alias.
    let mut key = key.clone().unalias();
    let mut filters = Vec::new();
    loop {
        match node {
            LogicalPlan::Projection(p) => {
                key = key
                    .transform(|e| match e {
                        Expr::Column(c) => {
                            let at = p.schema.iter().position(|(q, f)| f.name() == &c.name && (c.relation.is_none() || q == c.relation.as_ref()));
                            match at {
                                Some(i) => Ok(Transformed::new(p.expr[i].clone().unalias(), true, TreeNodeRecursion::Jump)),
                                None => Ok(Transformed::no(Expr::Column(c))),
                            }
                        }
                        other => Ok(Transformed::no(other)),
                    })?
                    .data;
                node = &p.input;
            }
            LogicalPlan::Filter(f) => {
                filters.extend(split_conjunction(&f.predicate).into_iter().cloned());
                node = &f.input;
            }
            LogicalPlan::SubqueryAlias(a) => node = &a.input,
            LogicalPlan::TableScan(scan) => return Ok(Some(Found { scan, key, filters })),
            _ => return Ok(None),
        }
    }
}

/// `(metric, column, query)` of a distance call between a column and a constant.
fn distance_call(e: &Expr) -> Option<(Metric, String, Expr)> {
    let Expr::ScalarFunction(f) = e else { return None };
    let metric = match f.name() {
        "l2_distance" => Metric::L2,
        "vector_negative_inner_product" => Metric::InnerProduct,
        "cosine_distance" => Metric::Cosine,
        _ => return None,
    };
    let [a, b] = f.args.as_slice() else { return None };
    let (column, query) = match (a, b) {
        (Expr::Column(c), q) | (q, Expr::Column(c)) if is_constant(q) => (c.name.clone(), q.clone()),
        _ => return None,
    };
    Some((metric, column, query))
}

/// The query as a vector: text (`$1::text`, `'[1,2]'` the planner left untyped) goes through
/// pgvector's text input, so the scan below always receives a vector value.
fn as_vector(query: Expr) -> Expr {
    use datafusion::logical_expr::ExprSchemable;
    match query.get_type(&datafusion::common::DFSchema::empty()) {
        Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
            let no_dims = Expr::Literal(ScalarValue::Int32(None), None);
            let kind = Expr::Literal(ScalarValue::Utf8(Some(super::VECTOR.into())), None);
            Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(super::cast::VectorCast::udf()), vec![query, no_dims, kind]))
        }
        _ => query,
    }
}

/// An expression without columns or volatile calls (`$n` parameters are bound before the scan
/// is planned: see [`bind_parameters`]).
fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    let _ = e.apply(|e| {
        if matches!(e, Expr::Column(_) | Expr::ScalarSubquery(_) | Expr::OuterReferenceColumn(..)) || e.is_volatile_node() {
            constant = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    constant
}

/// Binds `$n` inside the ANN scans of a plan optimized with placeholders: the query vector
/// lives in the table the rule made, where `LogicalPlan::with_param_values` does not reach.
pub fn bind_parameters(plan: LogicalPlan, values: &ParamValues) -> Result<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::TableScan(scan) = node else { return Ok(Transformed::no(node)) };
        let provider = source_as_provider(&scan.source)?;
        let Some(table) = provider.downcast_ref::<LanceTable>() else { return Ok(Transformed::no(LogicalPlan::TableScan(scan))) };
        match table.bind_query(&|p| Ok(Expr::Literal(values.get_placeholders_with_values(&p.id)?.value, None)))? {
            Some(bound) => Ok(Transformed::yes(LogicalPlan::TableScan(TableScan { source: provider_as_source(Arc::new(bound)), ..scan }))),
            None => Ok(Transformed::no(LogicalPlan::TableScan(scan))),
        }
    })
    .map(|t| t.data)
}

fn unqualified(e: &Expr) -> Expr {
    e.clone()
        .transform(|e| match e {
            Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(datafusion::common::Column::new_unqualified(c.name)))),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone())
}
