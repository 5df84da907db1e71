//! Parameters read at execution instead of planning, so that one physical plan of a prepared
//! query runs again and again with other values.
//!
//! Binding `$n` as literals makes every execution plan the query physically anew (about a third
//! of a millisecond for `ORDER BY embedding <-> $1 LIMIT 10`, more than the index search).
//! Instead each `$n` becomes a call of a [`Slot`] function that returns the value the slots
//! hold when the plan runs; [`crate::plan_cache`] keeps the physical plan and only refills the
//! slots. Only plans whose shape cannot depend on the values are slotted: a `$n` in LIMIT or
//! OFFSET, or pushed into a table scan (whose provider may use it to choose how to read), keeps
//! the statement on the ordinary bind-then-plan path. Operators that look at a constant while
//! they are planned (the exact top-k, the direct index search) re-check the new values before
//! the plan is reused (`rebindable` in the plan cache).

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use arrow::datatypes::DataType;
use datafusion::catalog::default_table_source::{provider_as_source, source_as_provider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Placeholder, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Values, Volatility};
use quartzdb_storage::LanceTable;

/// The values of one plan's parameters, replaced before each execution.
#[derive(Debug)]
pub struct ParamSlots {
    values: Mutex<Vec<ScalarValue>>,
}

impl ParamSlots {
    /// Slots holding `values` (positional parameters only).
    pub fn new(values: &ParamValues) -> Option<Arc<Self>> {
        let ParamValues::List(list) = values else { return None };
        Some(Arc::new(Self { values: Mutex::new(list.iter().map(|v| v.value.clone()).collect()) }))
    }

    /// Puts `values` in the slots when they have the types the plan was made with.
    pub fn set(&self, values: &ParamValues) -> bool {
        let ParamValues::List(list) = values else { return false };
        let mut slots = self.values.lock().expect("parameter slots");
        if list.len() != slots.len() || list.iter().zip(slots.iter()).any(|(new, old)| new.value.data_type() != old.data_type()) {
            return false;
        }
        for (slot, new) in slots.iter_mut().zip(list) {
            *slot = new.value.clone();
        }
        true
    }

    fn get(&self, index: usize) -> ScalarValue {
        self.values.lock().expect("parameter slots")[index].clone()
    }
}

/// `$n` as a function of no arguments: the value in slot `n - 1` when it runs. Stable, as a
/// parameter is within one execution; DataFusion's logical simplifier folds stable calls, so a
/// slotted plan goes straight to the physical planner, never through the optimizer again.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ParamSlots>,
    index: usize,
    data_type: DataType,
    signature: Signature,
}

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.slots, &other.slots) && self.index == other.index
    }
}

impl Eq for Slot {}

impl Hash for Slot {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.index.hash(state);
    }
}

/// The name slot calls have in plans (and in EXPLAIN).
pub const SLOT_FUNCTION: &str = "quartz_parameter";

impl ScalarUDFImpl for Slot {
    fn name(&self) -> &str {
        SLOT_FUNCTION
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.data_type.clone())
    }
    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.slots.get(self.index)))
    }
}

/// `plan` with every `$n` read from `slots`, or `None` when a parameter sits where the plan's
/// shape could depend on its value (LIMIT/OFFSET, filters pushed into a scan).
pub fn slot_parameters(plan: LogicalPlan, slots: &Arc<ParamSlots>) -> Result<Option<LogicalPlan>> {
    let types: Vec<DataType> = slots.values.lock().expect("parameter slots").iter().map(ScalarValue::data_type).collect();
    let slot_expr = |p: &Placeholder| -> Result<Expr> {
        let index = p.id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).and_then(|n| n.checked_sub(1)).filter(|i| *i < types.len());
        let Some(index) = index else { return datafusion::common::plan_err!("No value found for placeholder with id {}", p.id) };
        let slot = Slot { slots: slots.clone(), index, data_type: types[index].clone(), signature: Signature::nullary(Volatility::Stable) };
        Ok(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(ScalarUDF::new_from_impl(slot)), vec![])))
    };
    let mut shape_depends = false;
    let slotted = plan.transform_up_with_subqueries(|node| {
        match &node {
            LogicalPlan::Limit(limit) => {
                let mut has = false;
                for e in limit.skip.iter().chain(limit.fetch.iter()) {
                    has |= has_placeholder(e);
                }
                if has {
                    shape_depends = true;
                    return Ok(Transformed::new(node, false, TreeNodeRecursion::Stop));
                }
            }
            LogicalPlan::TableScan(scan) => {
                if scan.filters.iter().any(has_placeholder) {
                    shape_depends = true;
                    return Ok(Transformed::new(node, false, TreeNodeRecursion::Stop));
                }
                // The ANN rule's query vector lives in the table it made.
                let provider = source_as_provider(&scan.source)?;
                if let Some(table) = provider.downcast_ref::<LanceTable>()
                    && let Some(bound) = table.bind_query(&|p| slot_expr(p))?
                {
                    let scan = datafusion::logical_expr::TableScan { source: provider_as_source(Arc::new(bound)), ..scan.clone() };
                    return Ok(Transformed::yes(LogicalPlan::TableScan(scan)));
                }
                return Ok(Transformed::no(node));
            }
            _ => {}
        }
        let names = NamePreserver::new(&node);
        let node = node.map_expressions(|e| {
            if !has_placeholder(&e) {
                return Ok(Transformed::no(e));
            }
            let name = names.save(&e);
            let replaced = e.transform_up(|e| match e {
                Expr::Placeholder(p) => Ok(Transformed::yes(slot_expr(&p)?)),
                other => Ok(Transformed::no(other)),
            })?;
            Ok(replaced.update_data(|e| name.restore(e)))
        })?;
        if !node.transformed {
            return Ok(node);
        }
        node.map_data(|plan| match plan {
            // VALUES types its columns from the rows; recompute_schema leaves it alone.
            LogicalPlan::Values(Values { values, .. }) => LogicalPlanBuilder::values(values)?.build(),
            plan => plan.recompute_schema(),
        })
    })?;
    Ok((!shape_depends).then_some(slotted.data))
}

fn has_placeholder(e: &Expr) -> bool {
    e.exists(|e| Ok(matches!(e, Expr::Placeholder(_)))).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::ParamValues;
    use datafusion::prelude::SessionContext;

    async fn plan(ctx: &SessionContext, sql: &str) -> LogicalPlan {
        ctx.state().create_logical_plan(sql).await.unwrap()
    }

    #[tokio::test]
    async fn a_slotted_plan_reads_the_values_of_each_execution() {
        let ctx = SessionContext::new();
        let p = plan(&ctx, "SELECT $1::bigint + 1 AS x").await;
        let first = ParamValues::List(vec![ScalarValue::Int64(Some(1)).into()]);
        let slots = ParamSlots::new(&first).unwrap();
        let slotted = slot_parameters(p, &slots).unwrap().expect("slottable");
        let state = ctx.state();
        let physical = state.query_planner().create_physical_plan(&slotted, &state).await.unwrap();
        let run = |p: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>| {
            let ctx = ctx.task_ctx();
            async move { datafusion::physical_plan::collect(p, ctx).await.unwrap()[0].column(0).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap().value(0) }
        };
        assert_eq!(run(physical.clone()).await, 2);
        assert!(slots.set(&ParamValues::List(vec![ScalarValue::Int64(Some(41)).into()])));
        assert_eq!(run(physical).await, 42);
        // Another type is refused: the plan was typed for bigint.
        assert!(!slots.set(&ParamValues::List(vec![ScalarValue::Utf8(Some("1".into())).into()])));
    }

    #[tokio::test]
    async fn limits_with_parameters_are_not_slotted() {
        let ctx = SessionContext::new();
        let p = plan(&ctx, "SELECT * FROM (VALUES (1), (2)) t(a) LIMIT $1").await;
        let slots = ParamSlots::new(&ParamValues::List(vec![ScalarValue::Int64(Some(1)).into()])).unwrap();
        assert!(slot_parameters(p, &slots).unwrap().is_none());
    }
}
