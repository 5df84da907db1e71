//! `$n` parameters: their types for Describe, and binding their values for Execute.
//!
//! DataFusion infers a placeholder's type from comparisons, IN lists and INSERT VALUES; it leaves
//! `$1::type` and `CAST($1 AS type)` untyped, although Postgres types them by the cast, and
//! `x = ANY($1)` (planned as `array_has($1, x)`), where Postgres types `$1` as an array of x's
//! type (psycopg's advice for lists). This module adds that inference.

use std::collections::HashMap;

use arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan};

use crate::error::{Error, Result};

/// The type of each `$1..$n` in order (`None` where nothing constrains it).
pub fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>> {
    let mut types: HashMap<String, Option<DataType>> = plan.get_parameter_types()?;
    plan.apply_with_subqueries(|node| {
        let schema = crate::rewrite::node_schema(node).ok();
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                let inferred = match e {
                    Expr::Cast(Cast { expr, field }) => match expr.as_ref() {
                        Expr::Placeholder(p) => Some((p.id.clone(), field.data_type().clone())),
                        _ => None,
                    },
                    Expr::ScalarFunction(f) if f.name() == "array_has" => match (f.args.as_slice(), &schema) {
                        ([Expr::Placeholder(p), x], Some(schema)) => x
                            .get_type(schema)
                            .ok()
                            .filter(|t| t != &DataType::Null)
                            .map(|t| (p.id.clone(), DataType::List(std::sync::Arc::new(arrow::datatypes::Field::new_list_field(t, true))))),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((id, t)) = inferred {
                    let slot = types.entry(id).or_insert(None);
                    if slot.is_none() {
                        *slot = Some(t);
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    let mut ordered = Vec::new();
    for (id, ty) in types {
        let n: usize = id
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::InvalidParameter(format!("invalid parameter name {id}")))?;
        if ordered.len() < n {
            ordered.resize(n, None);
        }
        ordered[n - 1] = ty;
    }
    Ok(ordered)
}

/// Substitutes parameter values into a plan. Without values, a plan that still has placeholders
/// is an error (a simple-protocol query cannot have parameters).
pub fn bind(plan: LogicalPlan, values: Option<ParamValues>) -> Result<LogicalPlan> {
    match values {
        Some(values) => Ok(plan.with_param_values(values)?),
        None => {
            if let Some(name) = plan.get_parameter_names()?.into_iter().next() {
                return Err(Error::UndefinedParameter(name));
            }
            Ok(plan)
        }
    }
}

fn vector_dims(t: &DataType) -> Option<usize> {
    match t {
        DataType::FixedSizeList(_, n) => Some(*n as usize),
        _ => None,
    }
}

/// Casts each bound value to the type the plan expects, so `$1` sent as text for an integer
/// column arrives as an integer; date/time text is read in the session's `zone`.
pub fn coerce(values: Vec<ScalarValue>, types: &[Option<DataType>], zone: chrono_tz::Tz) -> Result<ParamValues> {
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        if let (Some(Some(t)), ScalarValue::Utf8(Some(text))) = (types.get(i), &v)
            && let Some(value) = crate::datetime::casts::read_param(text, t, zone)
        {
            out.push(value?);
            continue;
        }
        match types.get(i).cloned().flatten() {
            Some(t) if v.data_type() != t && !v.is_null() && crate::vector::sparse::is_sparse_type(&t) => {
                let ScalarValue::Utf8(Some(text)) = &v else {
                    return Err(Error::InvalidParameter(format!("cannot read {} as a sparsevec", v.data_type())));
                };
                let array = crate::vector::sparse::build([Some(crate::vector::sparse::Sparse::parse(text, None)?)])?;
                out.push(ScalarValue::try_from_array(&array, 0)?)
            }
            Some(t) if v.data_type() != t && !v.is_null() && crate::vector::bit::is_bit_type(&t) => {
                let ScalarValue::Utf8(Some(text)) = &v else {
                    return Err(Error::InvalidParameter(format!("cannot read {} as a bit string", v.data_type())));
                };
                let array = crate::vector::bit::build([Some(crate::vector::bit::Bits::parse(text)?)])?;
                out.push(ScalarValue::try_from_array(&array, 0)?)
            }
            // Array text (`{1,"a b",NULL}`, as node-postgres sends arrays) for an array parameter.
            Some(t @ (DataType::List(_) | DataType::LargeList(_))) if !crate::vector::is_vector_type(&t) && matches!(&v, ScalarValue::Utf8(Some(_))) => {
                let ScalarValue::Utf8(Some(text)) = &v else { unreachable!("matched above") };
                let elements = crate::array_input::parse(text).map_err(Error::MalformedArray)?;
                let mut builder = arrow::array::ListBuilder::new(arrow::array::StringBuilder::new());
                builder.append_value(elements);
                let texts: arrow::array::ArrayRef = std::sync::Arc::new(builder.finish());
                let cast = arrow::compute::cast(&texts, &t)?;
                out.push(ScalarValue::try_from_array(&cast, 0)?)
            }
            // bytea's text form (`\x0102`), as drivers send bytea parameters in text.
            Some(DataType::Binary) if matches!(&v, ScalarValue::Utf8(Some(_))) => {
                let ScalarValue::Utf8(Some(text)) = &v else { unreachable!("matched above") };
                out.push(ScalarValue::Binary(Some(crate::bytea_input::parse(text)?)))
            }
            Some(t) if v.data_type() != t && !v.is_null() && crate::vector::is_vector_type(&t) => {
                let kind = crate::vector::Kind::of(&t).expect("vector parameter");
                let array = crate::vector::cast::to_kind(&v.to_array()?, kind, vector_dims(&t))?;
                out.push(ScalarValue::try_from_array(&array, 0)?)
            }
            Some(t) if v.data_type() != t && !v.is_null() => out.push(v.cast_to(&t)?),
            Some(t) if v.is_null() => out.push(ScalarValue::try_from(&t)?),
            _ => out.push(v),
        }
    }
    Ok(ParamValues::from(out))
}
