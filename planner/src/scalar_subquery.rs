//! Correlated scalar subqueries that are not aggregates, such as psql's
//! `(SELECT c.relkind = 'c' FROM pg_class c WHERE c.oid = t.typrelid)`. DataFusion decorrelates
//! only aggregated ones, so this analyzer rule makes the subquery an aggregate: [`Single`]
//! collects at most two of its values, and [`SINGLE_VALUE`] around the subquery gives PostgreSQL's
//! meaning: NULL for no rows, the value for one row, and error 21000 ("more than one row
//! returned by a subquery used as an expression") for more. The check is outside the subquery
//! because a decorrelated subquery is computed for every key, also those no outer row asks for.
//!
//! DataFusion also cannot decorrelate a subquery whose WHERE has a condition on outer columns
//! alone (psql's `… AND a.atthasdef`); such conditions move outside, as
//! `CASE WHEN cond THEN (subquery) END`, which is the same value: no rows give NULL either way.
//!
//! Nor one whose SELECT list reads outer columns (SQLAlchemy's column reflection:
//! `(SELECT json_build_object('always', a.attidentity = 'a', 'start', s.seqstart, …) FROM
//! pg_sequence s WHERE …)`). The subquery then returns the inner columns the expression reads,
//! as one struct, and the expression is computed outside from its fields and the outer
//! columns: `CASE WHEN s IS NOT NULL THEN f(a.attidentity, s.i0, …) END`, NULL for no row.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, Projection, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Subquery, Volatility,
};
use arrow::array::AsArray;
use datafusion::optimizer::AnalyzerRule;

pub const SINGLE: &str = "__quartz_single_row";
pub const SINGLE_VALUE: &str = "__quartz_single_value";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Single {
    signature: Signature,
}

pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(Single { signature: Signature::any(1, Volatility::Immutable) })
}

impl AggregateUDFImpl for Single {
    fn name(&self) -> &str {
        SINGLE
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(args[0].clone(), true))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let value_type = args.expr_fields[0].data_type().clone();
        Ok(Box::new(SingleAccumulator { value: ScalarValue::try_from(&value_type)?, value_type, rows: 0 }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("value", args.input_fields[0].data_type().clone(), true)),
            Arc::new(Field::new("rows", DataType::UInt64, true)),
        ])
    }
}

#[derive(Debug)]
struct SingleAccumulator {
    value: ScalarValue,
    value_type: DataType,
    rows: u64,
}

impl SingleAccumulator {
    fn add(&mut self, rows: u64, value: impl FnOnce() -> Result<ScalarValue>) -> Result<()> {
        if rows > 0 && self.rows == 0 {
            self.value = value()?;
        }
        self.rows += rows;
        Ok(())
    }
}

impl Accumulator for SingleAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = &values[0];
        self.add(a.len() as u64, || ScalarValue::try_from_array(a, 0))
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = arrow::compute::cast(&states[1], &DataType::UInt64)?;
        let rows = rows.as_any().downcast_ref::<arrow::array::UInt64Array>().expect("u64 state");
        for i in 0..rows.len() {
            let n = if rows.is_null(i) { 0 } else { rows.value(i) };
            self.add(n, || ScalarValue::try_from_array(&states[0], i))?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.value.clone(), ScalarValue::UInt64(Some(self.rows))])
    }
    /// No rows: an empty list; one: `[value]`; more: `[value, value]`, which [`SINGLE_VALUE`] refuses.
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let values = vec![self.value.clone(); self.rows.min(2) as usize];
        Ok(ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.value_type)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.value.size()
    }
}

/// The value of a [`Single`] list: NULL for none, the element for one, error 21000 for two.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SingleValue {
    signature: Signature,
}

pub fn single_value_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(SingleValue { signature: Signature::any(1, Volatility::Immutable) })
}

impl ScalarUDFImpl for SingleValue {
    fn name(&self) -> &str {
        SINGLE_VALUE
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            DataType::List(f) => Ok(f.data_type().clone()),
            other => Ok(other.clone()),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let lists = args.args[0].to_array(args.number_rows)?;
        let lists = lists.as_list::<i32>();
        let mut indices: Vec<Option<u32>> = Vec::with_capacity(lists.len());
        for i in 0..lists.len() {
            let len = if lists.is_null(i) { 0 } else { lists.value_length(i) };
            if len > 1 {
                return Err(crate::Error::SubqueryRows.into());
            }
            indices.push((len == 1).then(|| lists.value_offsets()[i] as u32));
        }
        let taken = arrow::compute::take(lists.values(), &arrow::array::UInt32Array::from(indices), None)?;
        if matches!(args.args[0], ColumnarValue::Scalar(_)) {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&taken, 0)?))
        } else {
            Ok(ColumnarValue::Array(taken))
        }
    }
}

#[derive(Debug)]
pub struct SingleRowSubqueries {
    single: Arc<AggregateUDF>,
    value: Arc<ScalarUDF>,
}

impl Default for SingleRowSubqueries {
    fn default() -> Self {
        Self { single: Arc::new(udaf()), value: Arc::new(single_value_udf()) }
    }
}

impl SingleRowSubqueries {
    /// `Projection[e] ← input` becomes `Projection[single(e) AS name] ← Aggregate[single(e)] ← input`.
    fn aggregate(&self, plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
        let LogicalPlan::Projection(Projection { expr, input, .. }) = plan else { return Ok(None) };
        if expr.len() != 1 || matches!(input.as_ref(), LogicalPlan::Aggregate(_)) || contains_aggregate(input) {
            return Ok(None);
        }
        let (name, inner) = match &expr[0] {
            Expr::Alias(a) => (a.name.clone(), a.expr.as_ref().clone()),
            e => (e.schema_name().to_string(), e.clone()),
        };
        let call = Expr::AggregateFunction(AggregateFunction::new_udf(self.single.clone(), vec![inner], false, None, vec![], None));
        let agg_name = call.schema_name().to_string();
        let plan = LogicalPlanBuilder::from(input.as_ref().clone())
            .aggregate(Vec::<Expr>::new(), vec![call])?
            .project(vec![datafusion::prelude::col(agg_name).alias(name)])?
            .build()?;
        Ok(Some(plan))
    }
}

/// `Projection[f(outer, inner)] ← input` as `Projection[named_struct('i0', inner0, …)] ← input`
/// and `f` over the struct's fields (`Column` placeholders `i0`, … and the outer columns made
/// plain), when the one projected expression reads outer columns.
fn lift_outer_projection(plan: &LogicalPlan) -> Result<Option<(LogicalPlan, Expr, String)>> {
    let LogicalPlan::Projection(Projection { expr, input, .. }) = plan else { return Ok(None) };
    let [e] = expr.as_slice() else { return Ok(None) };
    let (name, e) = match e {
        Expr::Alias(a) => (a.name.clone(), a.expr.as_ref().clone()),
        e => (e.schema_name().to_string(), e.clone()),
    };
    let mut outer = false;
    let mut nested = false;
    let mut inner: Vec<datafusion::common::Column> = Vec::new();
    e.apply(|e| {
        match e {
            Expr::OuterReferenceColumn(..) => outer = true,
            Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) | Expr::AggregateFunction(_) | Expr::WindowFunction(_) => nested = true,
            Expr::Column(c) if !inner.contains(c) => inner.push(c.clone()),
            _ => {}
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })?;
    if !outer || nested || e.is_volatile() {
        return Ok(None);
    }
    let field = |i: usize| format!("i{i}");
    let mut args = Vec::new();
    for (i, c) in inner.iter().enumerate() {
        args.push(datafusion::prelude::lit(field(i)));
        args.push(Expr::Column(c.clone()));
    }
    if args.is_empty() {
        // Only outer columns: the struct just says whether there is a row.
        args = vec![datafusion::prelude::lit("row"), datafusion::prelude::lit(true)];
    }
    let packed = datafusion::functions::core::expr_fn::named_struct(args).alias(name.clone());
    let plan = LogicalPlanBuilder::from(input.as_ref().clone()).project(vec![packed])?.build()?;
    let outside = e
        .transform(|e| match e {
            Expr::OuterReferenceColumn(_, c) => Ok(Transformed::yes(Expr::Column(c))),
            Expr::Column(c) => {
                let i = inner.iter().position(|x| *x == c).expect("collected above");
                Ok(Transformed::yes(Expr::Column(datafusion::common::Column::from_name(format!("{LIFTED}{}", field(i))))))
            }
            e => Ok(Transformed::no(e)),
        })
        .data()?;
    Ok(Some((plan, outside, name)))
}

/// Prefix of the placeholders [`lift_outer_projection`] leaves for the struct's fields.
const LIFTED: &str = "__quartz_lifted_";

/// Splits `Projection ← Filter(inner AND outer-only)` into the plan without the outer-only
/// conditions and those conditions as outer expressions.
fn pull_outer_conditions(plan: &LogicalPlan) -> Result<Option<(LogicalPlan, Expr)>> {
    let LogicalPlan::Projection(Projection { expr, input, .. }) = plan else { return Ok(None) };
    let LogicalPlan::Filter(filter) = input.as_ref() else { return Ok(None) };
    let (outer, inner): (Vec<&Expr>, Vec<&Expr>) =
        datafusion::logical_expr::utils::split_conjunction(&filter.predicate).into_iter().partition(|e| only_outer(e));
    if outer.is_empty() {
        return Ok(None);
    }
    let mut builder = LogicalPlanBuilder::from(filter.input.as_ref().clone());
    if let Some(rest) = inner.into_iter().cloned().reduce(Expr::and) {
        builder = builder.filter(rest)?;
    }
    let plan = builder.project(expr.clone())?.build()?;
    let cond = outer.into_iter().cloned().reduce(Expr::and).expect("not empty");
    let cond = cond
        .transform(|e| match e {
            Expr::OuterReferenceColumn(_, c) => Ok(Transformed::yes(Expr::Column(c))),
            e => Ok(Transformed::no(e)),
        })
        .data()?;
    Ok(Some((plan, cond)))
}

/// An expression over outer columns only (no column of the subquery's own, no subquery).
fn only_outer(e: &Expr) -> bool {
    let mut outer = false;
    let mut other = false;
    let _ = e.apply(|e| {
        match e {
            Expr::OuterReferenceColumn(..) => outer = true,
            Expr::Column(_) | Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) => other = true,
            _ => {}
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    outer && !other && !e.is_volatile()
}

/// Whether the plan already aggregates or limits (such subqueries are DataFusion's to handle).
fn contains_aggregate(plan: &LogicalPlan) -> bool {
    plan.exists(|p| Ok(matches!(p, LogicalPlan::Aggregate(_) | LogicalPlan::Limit(_) | LogicalPlan::Window(_) | LogicalPlan::Distinct(_))))
        .unwrap_or(true)
}

impl AnalyzerRule for SingleRowSubqueries {
    fn name(&self) -> &str {
        "quartz_single_row_subqueries"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let names = datafusion::logical_expr::expr_rewriter::NamePreserver::new(&node);
            node.map_expressions(|e| {
                let name = names.save(&e);
                let e = e.transform_up(|e| match e {
                    Expr::ScalarSubquery(Subquery { subquery, outer_ref_columns, spans }) if !outer_ref_columns.is_empty() => {
                        let (subquery, lifted) = match lift_outer_projection(&subquery)? {
                            Some((plan, outside, _)) => (Arc::new(plan), Some(outside)),
                            None => (subquery, None),
                        };
                        let (subquery, outer) = match pull_outer_conditions(&subquery)? {
                            Some((plan, cond)) => (Arc::new(plan), Some(cond)),
                            None => (subquery, None),
                        };
                        let changed = outer.is_some() || lifted.is_some();
                        let (subquery, aggregated) = match self.aggregate(&subquery)? {
                            Some(p) => (Arc::new(p), true),
                            None => (subquery, false),
                        };
                        let e = Expr::ScalarSubquery(Subquery { subquery, outer_ref_columns, spans });
                        let e = if aggregated { self.value.call(vec![e]) } else { e };
                        // The lifted expression, its fields read from the subquery's struct.
                        let e = match lifted {
                            Some(outside) => {
                                let packed = e;
                                let value = outside
                                    .transform(|x| match x {
                                        Expr::Column(c) if c.relation.is_none() && c.name.starts_with(LIFTED) => {
                                            let field = c.name[LIFTED.len()..].to_string();
                                            Ok(Transformed::yes(datafusion::functions::core::expr_fn::get_field(packed.clone(), field)))
                                        }
                                        x => Ok(Transformed::no(x)),
                                    })
                                    .data()?;
                                datafusion::logical_expr::when(packed.clone().is_not_null(), value).end()?
                            }
                            None => e,
                        };
                        let e = match outer {
                            Some(cond) => datafusion::logical_expr::when(cond, e).end()?,
                            None => e,
                        };
                        Ok(if changed || aggregated { Transformed::yes(e) } else { Transformed::no(e) })
                    }
                    e => Ok(Transformed::no(e)),
                })?;
                Ok(e.update_data(|e| name.restore(e)))
            })
        })
        .data()
    }
}
