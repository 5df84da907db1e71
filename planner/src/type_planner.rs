//! Makes DataFusion plan SQL type names (in CAST, `::type`, literals) exactly as QuartzDB stores
//! them, including the Postgres types DataFusion does not know (uuid, json, timestamptz, ...).

use std::sync::Arc;

use arrow::datatypes::{Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::sql::sqlparser::ast;

use crate::types::{column_type, field_metadata};

#[derive(Debug, Default)]
pub struct PgTypePlanner;

impl TypePlanner for PgTypePlanner {
    fn plan_type_field(&self, sql_type: &ast::DataType) -> Result<Option<FieldRef>> {
        // Types QuartzDB does not map fall through to DataFusion's own planning.
        // Bit strings carry their kind and length to the cast rule (see `vector::bit`).
        match sql_type {
            ast::DataType::Bit(n) => return Ok(Some(crate::vector::bit::cast_field(false, Some(n.unwrap_or(1))))),
            ast::DataType::BitVarying(n) | ast::DataType::VarBit(n) => return Ok(Some(crate::vector::bit::cast_field(true, *n))),
            ast::DataType::Custom(name, modifiers) if name.to_string().eq_ignore_ascii_case(crate::vector::sparse::SPARSEVEC) => {
                column_type(sql_type)?;
                return Ok(Some(crate::vector::sparse::cast_field(modifiers.first().and_then(|m| m.trim().parse().ok()))));
            }
            _ => {}
        }
        match column_type(sql_type) {
            Ok(t) if !t.serial => Ok(Some(Arc::new(Field::new("", t.arrow, true).with_metadata(field_metadata(&t.pg_name))))),
            // A bad vector dimension is the user's error, not a type for DataFusion to try.
            Err(e @ crate::Error::Vector(_)) => Err(e.into()),
            _ => Ok(None),
        }
    }
}
