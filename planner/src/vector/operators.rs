//! Plans pgvector's operators as calls to its functions: the distance operators always, and
//! `+ - * ||` when an operand is a vector. An untyped `$n` on the other side of a vector takes
//! the vector's type, so `ORDER BY embedding <-> $1` describes `$1` as a vector.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Placeholder, ScalarFunction};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, ScalarUDF};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::functions::operator_function;
use super::bit::{self, is_bit_type};
use super::sparse::{self, is_sparse_type};
use super::{is_vector_field, vector_type};
use super::vector_field as vector_field_of;

#[derive(Debug)]
pub struct VectorOperators {
    functions: HashMap<String, Arc<ScalarUDF>>,
}

impl VectorOperators {
    pub fn new(functions: &[ScalarUDF]) -> Self {
        Self { functions: functions.iter().map(|f| (f.name().to_string(), Arc::new(f.clone()))).collect() }
    }
}

impl ExprPlanner for VectorOperators {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let symbol = match &expr.op {
            BinaryOperator::Custom(s) => s.as_str(),
            BinaryOperator::Plus => "+",
            BinaryOperator::Minus => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::StringConcat => "||",
            _ => "",
        };
        let left = vector_field(&expr.left, schema);
        let right = vector_field(&expr.right, schema);
        let Some(function) = operator_function(symbol).and_then(|name| self.functions.get(name)) else {
            // Comparisons: a text literal or untyped parameter next to a vector is a vector.
            if matches!(expr.op, BinaryOperator::Eq | BinaryOperator::NotEq | BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq) {
                let (l, r) = (typed(expr.left, right.as_ref(), schema, true), typed(expr.right, left.as_ref(), schema, true));
                return Ok(PlannerResult::Original(RawBinaryExpr { op: expr.op, left: l, right: r }));
            }
            return Ok(PlannerResult::Original(expr));
        };
        if !symbol.starts_with('<') && left.is_none() && right.is_none() {
            return Ok(PlannerResult::Original(expr));
        }
        let args = vec![typed(expr.left, right.as_ref(), schema, false), typed(expr.right, left.as_ref(), schema, false)];
        Ok(PlannerResult::Planned(Expr::ScalarFunction(ScalarFunction::new_udf(function.clone(), args))))
    }
}

/// The expression's field, when it is a vector or a bit string.
fn vector_field(e: &Expr, schema: &DFSchema) -> Option<FieldRef> {
    let (_, field) = e.to_field(schema).ok()?;
    (is_vector_field(&field) || is_bit_type(field.data_type()) || is_sparse_type(field.data_type())).then_some(field)
}

/// Types the operand next to a vector: an untyped placeholder takes the vector's type, and text
/// becomes a vector (of the same dimension for comparisons; of any dimension for the distance
/// and arithmetic functions, which report a mismatch as pgvector does).
fn typed(e: Expr, other: Option<&FieldRef>, schema: &DFSchema, same_dims: bool) -> Expr {
    let Some(f) = other else { return e };
    // Bit strings and sparse vectors: their functions read text themselves (a struct constant
    // in a sort key trips DataFusion's ordering check), so only a parameter needs a type, and a
    // comparison a value of the type on both sides.
    let struct_field = if is_sparse_type(f.data_type()) {
        Some(sparse::cast_field(None))
    } else if is_bit_type(f.data_type()) {
        Some(bit::cast_field(true, None))
    } else {
        None
    };
    if let Some(field) = struct_field {
        return match e {
            Expr::Placeholder(p) if p.field.is_none() => Expr::Placeholder(Placeholder::new_with_field(p.id, Some(field))),
            e if same_dims && matches!(e.get_type(schema), Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)) => {
                Expr::Cast(Cast::new_from_field(Box::new(e), field))
            }
            e => e,
        };
    }
    let t = if same_dims { f.data_type().clone() } else { vector_type(None) };
    match e {
        Expr::Placeholder(p) if p.field.is_none() => {
            let field = vector_field_of("", f.data_type().clone());
            Expr::Placeholder(Placeholder::new_with_field(p.id, Some(Arc::new(field))))
        }
        e if matches!(e.get_type(schema), Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)) => {
            Expr::Cast(Cast::new_from_field(Box::new(e), Arc::new(vector_field_of("", t))))
        }
        e => e,
    }
}
