//! `::regtype`: a type name or OID shown as the type's name. It is planned as text carrying the
//! `regtype` marker in the cast's target field, and this analyzer rule turns each cast into the
//! function that resolves it, outermost first so a comparison sees its operands as written:
//! `x = 'name'::regtype` with an integer `x` compares OIDs, as in PostgreSQL.

use std::sync::Arc;


use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF};
use datafusion::optimizer::AnalyzerRule;

use super::functions::{REGTYPE_IN, REGTYPE_NAME, REGTYPE_OID};
use crate::types::PG_TYPE_METADATA;

#[derive(Debug)]
pub struct RegtypeCasts {
    functions: Vec<Arc<ScalarUDF>>,
}

impl RegtypeCasts {
    pub fn new(functions: &[ScalarUDF]) -> Self {
        Self { functions: functions.iter().map(|f| Arc::new(f.clone())).collect() }
    }

    fn call(&self, name: &str, arg: Expr) -> Expr {
        let f = self.functions.iter().find(|f| f.name() == name).expect("regtype functions are registered").clone();
        Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![arg]))
    }

    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        match e {
            // `oid = 'vector'::regtype`: compare OIDs.
            Expr::BinaryExpr(BinaryExpr { left, op, right }) if is_comparison(op) => {
                let (left, right) = (*left, *right);
                let (left, right) = match (regtype_text(&left), regtype_text(&right)) {
                    (_, Some(inner)) if is_int(&left, schema) => (left, self.call(REGTYPE_OID, inner)),
                    (Some(inner), _) if is_int(&right, schema) => (self.call(REGTYPE_OID, inner), right),
                    _ => return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right))))),
                };
                Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))))
            }
            // `'vector'::regtype::oid`
            Expr::Cast(Cast { expr, field }) if field.data_type().is_integer() && regtype_text(&expr).is_some() => {
                let inner = regtype_text(&expr).expect("checked");
                Ok(Transformed::yes(self.call(REGTYPE_OID, inner).cast_to(field.data_type(), schema)?))
            }
            Expr::Cast(Cast { expr, field }) if is_regtype(&field) => {
                let source = expr.get_type(schema)?;
                let name = if source.is_integer() { REGTYPE_NAME } else { REGTYPE_IN };
                Ok(Transformed::yes(self.call(name, *expr)))
            }
            e => Ok(Transformed::no(e)),
        }
    }
}

fn is_comparison(op: Operator) -> bool {
    matches!(op, Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq)
}

fn is_regtype(field: &arrow::datatypes::Field) -> bool {
    field.metadata().get(PG_TYPE_METADATA).is_some_and(|t| t == "regtype")
}

fn is_int(e: &Expr, schema: &DFSchema) -> bool {
    e.get_type(schema).is_ok_and(|t| t.is_integer())
}

/// The text inside `text::regtype`, if `e` is such a cast.
fn regtype_text(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Cast(Cast { expr, field }) if is_regtype(field) && !matches!(expr.as_ref(), Expr::Literal(v, _) if v.data_type().is_integer()) => {
            Some(expr.as_ref().clone())
        }
        _ => None,
    }
}

impl AnalyzerRule for RegtypeCasts {
    fn name(&self) -> &str {
        "quartz_regtype_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let schema = crate::vector::cast::node_schema(&node)?;
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let name = names.save(&e);
                Ok(e.transform_down(|e| self.rewrite(e, &schema))?.update_data(|e| name.restore(e)))
            })
        })
        .data()
    }
}

