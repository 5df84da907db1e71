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
        match column_type(sql_type) {
            Ok(t) if !t.serial => Ok(Some(Arc::new(Field::new("", t.arrow, true).with_metadata(field_metadata(&t.pg_name))))),
            // A bad vector dimension is the user's error, not a type for DataFusion to try.
            Err(e @ crate::Error::Vector(_)) => Err(e.into()),
            _ => Ok(None),
        }
    }
}
