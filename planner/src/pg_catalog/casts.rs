//! `::regtype`, `::regclass`, `::regnamespace`, `::regrole`, `::regproc`: an object's name or OID shown as
//! its name. Each is planned as text carrying the type's marker in the cast's target field, and
//! this analyzer rule turns each cast into the function that resolves it, outermost first so a
//! comparison sees its operands as written: `x = 'name'::regclass` with an integer `x`
//! compares OIDs, as in PostgreSQL.

use std::sync::Arc;


use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF};
use datafusion::optimizer::AnalyzerRule;

use super::objects::reg_function;
use crate::types::PG_TYPE_METADATA;

#[derive(Debug)]
pub struct RegCasts {
    functions: Vec<Arc<ScalarUDF>>,
}

impl RegCasts {
    pub fn new<'a>(functions: impl IntoIterator<Item = &'a ScalarUDF>) -> Self {
        Self { functions: functions.into_iter().map(|f| Arc::new(f.clone())).collect() }
    }

    fn call(&self, kind: &str, suffix: &str, arg: Expr) -> Expr {
        let name = reg_function(kind, suffix);
        let f = self.functions.iter().find(|f| f.name() == name).expect("reg-cast functions are registered").clone();
        Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![arg]))
    }

    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        match e {
            // `oid = 'vector'::regtype`: compare OIDs.
            Expr::BinaryExpr(BinaryExpr { left, op, right }) if is_comparison(op) => {
                let (left, right) = (*left, *right);
                let (left, right) = match (reg_text(&left), reg_text(&right)) {
                    (_, Some((kind, inner))) if is_int(&left, schema) => (left, self.call(&kind, "oid", inner)),
                    (Some((kind, inner)), _) if is_int(&right, schema) => (self.call(&kind, "oid", inner), right),
                    _ => return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right))))),
                };
                Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))))
            }
            // `conrelid IN ('a'::regclass, 'b'::regclass)`: the OIDs of the names.
            Expr::InList(list) if is_int(&list.expr, schema) && list.list.iter().any(|e| reg_text(e).is_some()) => {
                let items = list
                    .list
                    .into_iter()
                    .map(|e| match reg_text(&e) {
                        Some((kind, inner)) => self.call(&kind, "oid", inner),
                        None => e,
                    })
                    .collect();
                Ok(Transformed::yes(Expr::InList(datafusion::logical_expr::expr::InList::new(list.expr, items, list.negated))))
            }
            // `'vector'::regtype::oid`
            Expr::Cast(Cast { expr, field }) if field.data_type().is_integer() && reg_text(&expr).is_some() => {
                let (kind, inner) = reg_text(&expr).expect("checked");
                Ok(Transformed::yes(self.call(&kind, "oid", inner).cast_to(field.data_type(), schema)?))
            }
            Expr::Cast(Cast { expr, field }) if reg_kind(&field).is_some() => {
                let kind = reg_kind(&field).expect("checked");
                let source = expr.get_type(schema)?;
                let suffix = if source.is_integer() { "name" } else { "in" };
                Ok(Transformed::yes(self.call(&kind, suffix, *expr)))
            }
            e => Ok(Transformed::no(e)),
        }
    }
}

fn is_comparison(op: Operator) -> bool {
    matches!(op, Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq)
}

/// The object-name type a cast's target field is marked with.
fn reg_kind(field: &arrow::datatypes::Field) -> Option<String> {
    field.metadata().get(PG_TYPE_METADATA).filter(|t| matches!(t.as_str(), "regtype" | "regclass" | "regnamespace" | "regrole" | "regproc")).cloned()
}

fn is_int(e: &Expr, schema: &DFSchema) -> bool {
    e.get_type(schema).is_ok_and(|t| t.is_integer())
}

/// The kind and the text inside `text::regclass` (or another reg-type), if `e` is such a cast.
fn reg_text(e: &Expr) -> Option<(String, Expr)> {
    match e {
        Expr::Cast(Cast { expr, field }) if !matches!(expr.as_ref(), Expr::Literal(v, _) if v.data_type().is_integer()) => {
            Some((reg_kind(field)?, expr.as_ref().clone()))
        }
        _ => None,
    }
}

impl AnalyzerRule for RegCasts {
    fn name(&self) -> &str {
        "quartz_reg_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let schema = crate::rewrite::node_schema(&node)?;
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let name = names.save(&e);
                Ok(e.transform_down(|e| self.rewrite(e, &schema))?.update_data(|e| name.restore(e)))
            })
        })
        .data()
    }
}

