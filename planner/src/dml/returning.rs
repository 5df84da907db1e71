//! `RETURNING`: evaluates the select list over the rows a statement wrote (new rows for INSERT and
//! UPDATE, old rows for DELETE), under the table's name or alias.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::Expr;
use datafusion::prelude::DataFrame;
use datafusion::sql::sqlparser::ast::SelectItem;
use quartzdb_storage::QualifiedName;

use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};
use crate::session::Session;

pub async fn output(
    session: &Session,
    table: &str,
    alias: Option<&str>,
    schema: SchemaRef,
    rows: Vec<RecordBatch>,
    items: Vec<SelectItem>,
    tag: CommandTag,
) -> Result<Output> {
    let df = frame(session, table, alias, schema, rows)?;
    let df = project(df, &items)?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let stream = df.execute_stream().await?;
    Ok(Output::Rows { schema, stream, command: tag })
}

/// The RETURNING columns' schema, for Describe, computed over an empty table of the same shape.
pub async fn schema(session: &Session, table: &QualifiedName, alias: Option<&str>, items: &[SelectItem]) -> Result<SchemaRef> {
    let catalog = session.catalog();
    let meta = catalog.table(session.database(), table)?;
    let (dataset, _) = session.source().dataset(meta).await?;
    let schema = quartzdb_storage::table_schema(&dataset);
    let df = project(frame(session, &table.name, alias, Arc::new(schema), vec![])?, items)?;
    Ok(Arc::new(df.schema().as_arrow().clone()))
}

fn frame(session: &Session, table: &str, alias: Option<&str>, schema: SchemaRef, rows: Vec<RecordBatch>) -> Result<DataFrame> {
    let mem = MemTable::try_new(schema, vec![rows])?;
    let df = session.context().read_table(Arc::new(mem))?;
    Ok(df.alias(alias.unwrap_or(table))?)
}

fn project(df: DataFrame, items: &[SelectItem]) -> Result<DataFrame> {
    let mut exprs: Vec<Expr> = Vec::new();
    for item in items {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                exprs.extend(df.schema().columns().into_iter().map(Expr::Column));
            }
            SelectItem::UnnamedExpr(e) => exprs.push(df.parse_sql_expr(&e.to_string())?.alias(crate::names::column_name(e))),
            SelectItem::ExprWithAlias { expr, alias } => {
                exprs.push(df.parse_sql_expr(&expr.to_string())?.alias(crate::names::ident(alias)))
            }
            other => return Err(Error::Unsupported(format!("RETURNING item {other}"))),
        }
    }
    Ok(df.select(exprs)?)
}
