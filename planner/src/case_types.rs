//! A `CASE` keeps the PostgreSQL type of its results.
//!
//! Types Arrow cannot tell from text (`json`, `uuid`, `regclass`, …) are marked in field
//! metadata, and DataFusion's `CASE` drops it: `CASE WHEN c THEN json_build_object(…) END` would
//! go out as `text`, and drivers would not decode it (SQLAlchemy's column reflection reads
//! identity options that way). A selected `CASE` whose non-NULL results all carry the same
//! marker is wrapped in [`MARK_TYPE`], which returns its value marked again (an alias's
//! metadata would not survive physical planning). This runs on the plan as the SQL planner
//! made it, whose schema is the one clients are described.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::DFSchema;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, Projection, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::types::{PG_TYPE_METADATA, field_metadata};

/// `__quartz_mark_type(value, 'json')`: the value, its field marked as that PostgreSQL type.
const MARK_TYPE: &str = "__quartz_mark_type";

#[derive(Debug, PartialEq, Eq, Hash)]
struct MarkType {
    signature: Signature,
}

impl ScalarUDFImpl for MarkType {
    fn name(&self) -> &str {
        MARK_TYPE
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let name = match args.scalar_arguments.get(1).copied().flatten() {
            Some(datafusion::common::ScalarValue::Utf8(Some(name))) => name.clone(),
            _ => String::new(),
        };
        Ok(Arc::new(Field::new(MARK_TYPE, args.arg_fields[0].data_type().clone(), true).with_metadata(field_metadata(&name))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(args.args[0].clone())
    }
}

/// The metadata marking `e`'s PostgreSQL type, if it has such a mark.
fn marker(e: &Expr, schema: &DFSchema) -> Option<HashMap<String, String>> {
    match e {
        Expr::Alias(a) => marker(&a.expr, schema),
        Expr::Case(case) => {
            let results = case.when_then_expr.iter().map(|(_, then)| then.as_ref()).chain(case.else_expr.as_deref());
            let mut found: Option<HashMap<String, String>> = None;
            for r in results {
                if is_null(r) {
                    continue;
                }
                let m = marker(r, schema)?;
                match &found {
                    Some(f) if f.get(PG_TYPE_METADATA) != m.get(PG_TYPE_METADATA) => return None,
                    Some(_) => {}
                    None => found = Some(m),
                }
            }
            found
        }
        other => {
            let (_, field) = other.to_field(schema).ok()?;
            let m = field.metadata();
            m.contains_key(PG_TYPE_METADATA).then(|| m.clone())
        }
    }
}

/// A NULL literal, perhaps cast.
fn is_null(e: &Expr) -> bool {
    match e {
        Expr::Literal(v, _) => v.is_null(),
        Expr::Cast(c) => is_null(&c.expr),
        Expr::TryCast(c) => is_null(&c.expr),
        _ => false,
    }
}

fn is_case(e: &Expr) -> bool {
    matches!(e, Expr::Case(_)) || matches!(e, Expr::Alias(a) if matches!(a.expr.as_ref(), Expr::Case(_)))
}

/// Marks the selected `CASE`s of `plan` with the type of their results (see the module doc).
/// A plan this cannot rewrite is returned as it was.
pub fn mark_case_types(plan: LogicalPlan) -> LogicalPlan {
    let udf = Arc::new(ScalarUDF::new_from_impl(MarkType { signature: Signature::any(2, Volatility::Immutable) }));
    let marked = plan.clone().transform_up_with_subqueries(|node| mark_projection(node, &udf)).and_then(|t| {
        if !t.transformed {
            return Ok(t.data);
        }
        // The nodes above a changed projection still carry its old schema.
        t.data.transform_up_with_subqueries(|node| Ok(Transformed::yes(node.recompute_schema()?))).data()
    });
    match marked {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(error = %e, "CASE types not marked");
            plan
        }
    }
}

fn mark_projection(node: LogicalPlan, udf: &Arc<ScalarUDF>) -> Result<Transformed<LogicalPlan>> {
    {
        let LogicalPlan::Projection(p) = &node else { return Ok(Transformed::no(node)) };
        if !p.expr.iter().any(is_case) {
            return Ok(Transformed::no(node));
        }
        let schema = p.input.schema();
        let mut changed = false;
        let mut exprs = Vec::with_capacity(p.expr.len());
        for (i, e) in p.expr.iter().enumerate() {
            let already = p.schema.field(i).metadata().contains_key(PG_TYPE_METADATA);
            // Only types a name alone describes (not vectors or bit strings, whose marks carry more).
            let pg_type = if is_case(e) && !already { marker(e, schema) } else { None }
                .and_then(|m| m.get(PG_TYPE_METADATA).cloned())
                .filter(|t| !field_metadata(t).is_empty());
            match pg_type {
                Some(t) => {
                    let (relation, name) = e.qualified_name();
                    let inner = match e {
                        Expr::Alias(a) => a.expr.as_ref().clone(),
                        e => e.clone(),
                    };
                    exprs.push(udf.call(vec![inner, datafusion::prelude::lit(t)]).alias_qualified(relation, name));
                    changed = true;
                }
                None => exprs.push(e.clone()),
            }
        }
        if !changed {
            return Ok(Transformed::no(node));
        }
        Ok(Transformed::yes(LogicalPlan::Projection(Projection::try_new(exprs, p.input.clone())?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_branches_do_not_decide_the_type() {
        let null = Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(datafusion::prelude::lit(datafusion::common::ScalarValue::Null)), DataType::Utf8));
        assert!(is_null(&null));
        assert!(!is_null(&datafusion::prelude::lit("x")));
    }
}
