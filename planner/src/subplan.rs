//! Correlated subqueries DataFusion could not decorrelate, run once per distinct set of outer
//! values, as PostgreSQL runs a SubPlan per row. DataFusion leaves such a subquery in the
//! optimized plan (and its physical planner then refuses the outer reference): Django's
//! constraint introspection reads `ARRAY(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY …
//! WHERE ca.attrelid = c.conrelid)`, pgcli's foreign keys `unnest((SELECT array_agg(…) FROM
//! (SELECT unnest(confkey) …)))`: an outer column inside a FROM clause.
//!
//! The node holding the subquery (a Projection or a Filter) has its input computed first; each
//! distinct tuple of the outer columns the subquery reads is put into the subquery as literals,
//! which is then an ordinary plan, run on its own; the values become one more column of the
//! input, which the node reads in place of the subquery. A lateral join (`FROM pg_index i,
//! unnest(i.indkey)`, which DataFusion plans but decorrelates only when the outer columns are
//! compared by equality) is computed the same way: the right side once per distinct tuple of
//! the left columns it reads. Meant for catalog queries, whose inputs are small: the cost is one
//! run of the subquery per distinct tuple. Used only when DataFusion's own decorrelation failed
//! or left outer references behind (see `Session::run_correlated_subqueries`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{Expr, Filter, Join, JoinType, LogicalPlan, LogicalPlanBuilder, Projection, Subquery};
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;

use crate::{Error, Result};

/// Whether `plan`'s nodes (not counting what is inside subqueries) have a correlated subquery
/// or a FROM item reading the columns of the items before it (`FROM t, unnest(t.a)`).
pub fn has_correlated_subqueries(plan: &LogicalPlan) -> bool {
    any_expression(plan, |e| correlated(e).is_some()) || any_node(plan, |n| matches!(n, LogicalPlan::Join(j) if lateral(&j.right).is_some()))
}

/// Whether an optimized plan still reads outer columns or holds subqueries, which the physical
/// planner cannot run: DataFusion did not decorrelate them.
pub fn is_left_correlated(optimized: &LogicalPlan) -> bool {
    any_expression(optimized, |e| matches!(e, Expr::OuterReferenceColumn(..) | Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_)))
        || any_node(optimized, |n| matches!(n, LogicalPlan::Subquery(_)))
}

fn any_node(plan: &LogicalPlan, test: impl Fn(&LogicalPlan) -> bool) -> bool {
    plan.exists(|node| Ok(test(node))).unwrap_or(false)
}

/// Whether an expression of `plan`'s nodes (not inside subqueries) passes `test`.
fn any_expression(plan: &LogicalPlan, test: impl Fn(&Expr) -> bool) -> bool {
    any_node(plan, |node| {
        let mut found = false;
        let _ = node.apply_expressions(|e| {
            found = e.exists(|e| Ok(test(e)))?;
            Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
        });
        found
    })
}

/// The subquery of a join's right side that reads the left side's columns: DataFusion plans
/// such a FROM item as a Subquery node (under its alias).
fn lateral(right: &LogicalPlan) -> Option<&Subquery> {
    match right {
        LogicalPlan::SubqueryAlias(a) => lateral(&a.input),
        LogicalPlan::Subquery(s) if !s.outer_ref_columns.is_empty() => Some(s),
        _ => None,
    }
}

/// A lateral join computed: the left side, then the right side once per distinct tuple of the
/// left columns it reads, each left row paired with its right rows; the join's conditions
/// filter the pairs, and a LEFT join then adds each left row no pair kept, with NULLs.
async fn apply_lateral(ctx: &SessionContext, join: &Join) -> Result<LogicalPlan> {
    let subquery = lateral(&join.right).expect("checked lateral");
    if !matches!(join.join_type, JoinType::Inner | JoinType::Left) {
        return Err(Error::Unsupported(format!("{} JOIN LATERAL", join.join_type)));
    }
    let left = collect(ctx, &join.left).await?;
    let outer = outer_columns(subquery, &join.left);
    let right_schema = Arc::new(subquery.subquery.schema().as_arrow().clone());
    let mut results: Vec<RecordBatch> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    let mut seen: HashMap<Vec<ScalarValue>, usize> = HashMap::new();
    let (mut left_rows, mut right_rows): (Vec<u32>, Vec<Option<u32>>) = (Vec::new(), Vec::new());
    for row in 0..left.num_rows() {
        let key = outer_values(&left, &outer, row)?;
        let k = match seen.get(&key) {
            Some(k) => *k,
            None => {
                let batches = run_for(ctx, subquery, &outer, &key).await?;
                offsets.push(results.iter().map(|b| b.num_rows()).sum());
                results.push(arrow::compute::concat_batches(&right_schema, &batches)?);
                seen.insert(key, results.len() - 1);
                results.len() - 1
            }
        };
        for r in 0..results[k].num_rows() {
            left_rows.push(row as u32);
            right_rows.push(Some((offsets[k] + r) as u32));
        }
    }
    let right = arrow::compute::concat_batches(&right_schema, &results)?;
    let conditions = join.on.iter().map(|(l, r)| l.clone().eq(r.clone())).chain(join.filter.clone()).reduce(Expr::and);
    if let Some(condition) = conditions {
        // The pairs the conditions keep, read back by their row numbers.
        let numbers = vec![
            (LEFT_ROW.to_string(), Arc::new(UInt32Array::from(left_rows.clone())) as ArrayRef),
            (RIGHT_ROW.to_string(), Arc::new(UInt32Array::from(right_rows.clone())) as ArrayRef),
        ];
        let numbered = as_scan(join.schema.as_ref(), paired(&left, &right, &left_rows, &right_rows)?, numbers)?;
        let kept = LogicalPlanBuilder::from(numbered).filter(condition)?.project([Expr::Column(Column::new_unqualified(LEFT_ROW)), Expr::Column(Column::new_unqualified(RIGHT_ROW))])?.build()?;
        let kept = collect(ctx, &kept).await?;
        let column = |i: usize| kept.column(i).as_any().downcast_ref::<UInt32Array>().expect("row numbers").clone();
        let (l, r) = (column(0), column(1));
        left_rows = l.values().to_vec();
        right_rows = r.iter().collect();
    }
    if join.join_type == JoinType::Left {
        let matched: HashSet<u32> = left_rows.iter().copied().collect();
        for row in (0..left.num_rows() as u32).filter(|r| !matched.contains(r)) {
            left_rows.push(row);
            right_rows.push(None);
        }
    }
    as_scan(join.schema.as_ref(), paired(&left, &right, &left_rows, &right_rows)?, vec![])
}

const LEFT_ROW: &str = "__left_row";
const RIGHT_ROW: &str = "__right_row";

/// The columns of `left` and `right` rows taken in pairs (a `None` right row gives NULLs).
fn paired(left: &RecordBatch, right: &RecordBatch, left_rows: &[u32], right_rows: &[Option<u32>]) -> Result<Vec<ArrayRef>> {
    let (left_rows, right_rows) = (UInt32Array::from(left_rows.to_vec()), UInt32Array::from(right_rows.to_vec()));
    let mut columns = Vec::new();
    for c in left.columns() {
        columns.push(arrow::compute::take(c, &left_rows, None)?);
    }
    for c in right.columns() {
        columns.push(arrow::compute::take(c, &right_rows, None)?);
    }
    Ok(columns)
}

/// Replaces, bottom-up, every Projection or Filter of a plan (as planned, not optimized) that
/// holds correlated subqueries by the same node over its computed input plus the subqueries'
/// values.
pub fn run_correlated_subqueries<'a>(ctx: &'a SessionContext, plan: LogicalPlan) -> BoxFuture<'a, Result<LogicalPlan>> {
    Box::pin(async move {
        if !has_correlated_subqueries(&plan) {
            return Ok(plan);
        }
        let inputs = plan.inputs().into_iter().cloned().collect::<Vec<_>>();
        let mut new_inputs = Vec::with_capacity(inputs.len());
        for input in inputs {
            new_inputs.push(run_correlated_subqueries(ctx, input).await?);
        }
        let mut new_inputs = new_inputs.into_iter();
        let plan = plan.map_children(|_| Ok(Transformed::yes(new_inputs.next().expect("one per input")))).data()?;
        if let LogicalPlan::Join(join) = &plan
            && lateral(&join.right).is_some()
        {
            return apply_lateral(ctx, join).await;
        }
        let subqueries = correlated_in(&plan);
        if subqueries.is_empty() {
            return Ok(plan);
        }
        match plan {
            LogicalPlan::Projection(p) => {
                let (input, columns) = with_values(ctx, &p.input, &subqueries).await?;
                let exprs = p.expr.into_iter().map(|e| Ok(replace(e.clone(), &columns)?.alias_if_changed(e.schema_name().to_string())?)).collect::<Result<Vec<_>>>()?;
                Ok(LogicalPlan::Projection(Projection::try_new_with_schema(exprs, Arc::new(input), p.schema)?))
            }
            LogicalPlan::Filter(f) => {
                let (input, columns) = with_values(ctx, &f.input, &subqueries).await?;
                let predicate = replace(f.predicate, &columns)?;
                let outputs = f.input.schema().columns().into_iter().map(Expr::Column).collect::<Vec<_>>();
                let filtered = LogicalPlan::Filter(Filter::try_new(predicate, Arc::new(input))?);
                Ok(LogicalPlanBuilder::from(filtered).project(outputs)?.build()?)
            }
            other => Err(Error::Unsupported(format!("a correlated subquery in {} that could not be decorrelated", other.display()))),
        }
    })
}

/// The subquery of a scalar-subquery or EXISTS expression that reads outer columns.
fn correlated(e: &Expr) -> Option<&Subquery> {
    match e {
        Expr::ScalarSubquery(s) | Expr::Exists(datafusion::logical_expr::expr::Exists { subquery: s, .. }) if !s.outer_ref_columns.is_empty() => Some(s),
        _ => None,
    }
}

/// The correlated subquery expressions of a node's own expressions, in visiting order.
fn correlated_in(plan: &LogicalPlan) -> Vec<Expr> {
    let mut found = Vec::new();
    let _ = plan.apply_expressions(|e| {
        e.apply(|e| {
            if correlated(e).is_some() {
                found.push(e.clone());
            }
            Ok(TreeNodeRecursion::Continue)
        })
    });
    found
}

/// `plan` run to completion, as one batch.
async fn collect(ctx: &SessionContext, plan: &LogicalPlan) -> Result<RecordBatch> {
    let batches = ctx.execute_logical_plan(plan.clone()).await?.collect().await?;
    Ok(arrow::compute::concat_batches(&Arc::new(plan.schema().as_arrow().clone()), &batches)?)
}

/// Computed rows as a plan with `schema`'s qualified column names (so that expressions over
/// the original plan read them as before), plus unqualified `extra` columns.
fn as_scan(schema: &DFSchema, columns: Vec<ArrayRef>, extra: Vec<(String, ArrayRef)>) -> Result<LogicalPlan> {
    let mut fields: Vec<Field> = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, (field, array)) in schema.fields().iter().zip(columns).enumerate() {
        let array = if array.data_type() == field.data_type() { array } else { arrow::compute::cast(&array, field.data_type())? };
        fields.push(Field::new(format!("__input_{i}"), field.data_type().clone(), true).with_metadata(field.metadata().clone()));
        arrays.push(array);
    }
    for (name, array) in &extra {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array.clone());
    }
    let arrow_schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(arrow_schema.clone(), arrays)?;
    let table = MemTable::try_new(arrow_schema, vec![vec![batch]])?;
    let scan = LogicalPlanBuilder::scan("__computed", provider_as_source(Arc::new(table)), None)?.build()?;
    let mut exprs: Vec<Expr> = schema
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| Expr::Column(Column::new_unqualified(format!("__input_{i}"))).alias_qualified(qualifier.cloned(), field.name()))
        .collect();
    exprs.extend(extra.iter().map(|(name, _)| Expr::Column(Column::new_unqualified(name))));
    Ok(LogicalPlanBuilder::from(scan).project(exprs)?.build()?)
}

/// `input` computed, plus one column per subquery holding its value for each row; and those
/// columns' names.
async fn with_values(ctx: &SessionContext, input: &LogicalPlan, subqueries: &[Expr]) -> Result<(LogicalPlan, Vec<(Expr, String)>)> {
    let rows = collect(ctx, input).await?;
    let mut extra = Vec::new();
    let mut columns = Vec::new();
    for (k, expr) in subqueries.iter().enumerate() {
        let subquery = correlated(expr).expect("collected as correlated");
        let data_type = if matches!(expr, Expr::Exists(_)) { DataType::Boolean } else { subquery.subquery.schema().field(0).data_type().clone() };
        let values = values_per_row(ctx, input, &rows, expr, &data_type).await?;
        let name = format!("__subquery_{k}");
        extra.push((name.clone(), values));
        columns.push((expr.clone(), name));
    }
    Ok((as_scan(input.schema(), rows.columns().to_vec(), extra)?, columns))
}

/// The outer columns a subquery reads that `input` has, with their positions there.
fn outer_columns(subquery: &Subquery, input: &LogicalPlan) -> Vec<(Column, usize)> {
    subquery
        .outer_ref_columns
        .iter()
        .filter_map(|e| match e {
            Expr::OuterReferenceColumn(_, c) => input.schema().index_of_column(c).ok().map(|i| (c.clone(), i)),
            _ => None,
        })
        .collect()
}

fn outer_values(rows: &RecordBatch, outer: &[(Column, usize)], row: usize) -> Result<Vec<ScalarValue>> {
    Ok(outer.iter().map(|(_, i)| ScalarValue::try_from_array(rows.column(*i), row)).collect::<datafusion::error::Result<Vec<_>>>()?)
}

/// The subquery's value for each row of `rows`, running it once per distinct tuple of the
/// outer columns it reads.
async fn values_per_row(ctx: &SessionContext, input: &LogicalPlan, rows: &RecordBatch, expr: &Expr, data_type: &DataType) -> Result<ArrayRef> {
    let subquery = correlated(expr).expect("collected as correlated");
    let outer = outer_columns(subquery, input);
    let mut cache: HashMap<Vec<ScalarValue>, ScalarValue> = HashMap::new();
    let mut values = Vec::with_capacity(rows.num_rows());
    for row in 0..rows.num_rows() {
        let key = outer_values(rows, &outer, row)?;
        if let Some(v) = cache.get(&key) {
            values.push(v.clone());
            continue;
        }
        let batches = run_for(ctx, subquery, &outer, &key).await?;
        let count: usize = batches.iter().map(|b| b.num_rows()).sum();
        let value = if let Expr::Exists(e) = expr {
            ScalarValue::Boolean(Some((count > 0) != e.negated))
        } else {
            match (count, batches.iter().find(|b| b.num_rows() > 0)) {
                (0, _) | (_, None) => ScalarValue::try_from(data_type)?,
                (1, Some(b)) => ScalarValue::try_from_array(b.column(0), 0)?.cast_to(data_type)?,
                _ => return Err(Error::SubqueryRows),
            }
        };
        cache.insert(key, value.clone());
        values.push(value);
    }
    if values.is_empty() {
        return Ok(arrow::array::new_empty_array(data_type));
    }
    Ok(ScalarValue::iter_to_array(values)?)
}

/// The rows of `subquery` for one tuple of the outer values it reads.
async fn run_for(ctx: &SessionContext, subquery: &Subquery, outer: &[(Column, usize)], values: &[ScalarValue]) -> Result<Vec<RecordBatch>> {
    let bound = run_correlated_subqueries(ctx, bind_outer(subquery.subquery.as_ref().clone(), outer, values)?).await?;
    Ok(ctx.execute_logical_plan(bound).await?.collect().await?)
}

/// The subquery with its outer columns (at any depth) replaced by the row's values. A
/// relation that read them (DataFusion marks a FROM item reading outer columns as a Subquery
/// node, which only decorrelation removes) is then an ordinary one.
fn bind_outer(plan: LogicalPlan, outer: &[(Column, usize)], values: &[ScalarValue]) -> Result<LogicalPlan> {
    Ok(plan
        .transform_up_with_subqueries(|node| {
            if let LogicalPlan::Subquery(s) = &node
                && !any_expression(&s.subquery, |e| matches!(e, Expr::OuterReferenceColumn(..)))
            {
                return Ok(Transformed::yes(s.subquery.as_ref().clone()));
            }
            node.map_expressions(|e| {
                e.transform_up(|e| match &e {
                    Expr::OuterReferenceColumn(field, c) => match outer.iter().position(|(o, _)| o == c) {
                        Some(i) => Ok(Transformed::yes(Expr::Literal(values[i].cast_to(field.data_type())?, None))),
                        None => Ok(Transformed::no(e)),
                    },
                    _ => Ok(Transformed::no(e)),
                })
            })
        })
        .data()?)
}

/// `e` with each correlated subquery read from its column of values instead.
fn replace(e: Expr, columns: &[(Expr, String)]) -> Result<Expr> {
    Ok(e.transform_down(|e| match columns.iter().find(|(s, _)| *s == e) {
        Some((_, name)) => Ok(Transformed::new(Expr::Column(Column::new_unqualified(name)), true, TreeNodeRecursion::Jump)),
        None => Ok(Transformed::no(e)),
    })
    .data()?)
}
