//! CHECK constraints: made from their SQL (named, typed and their columns found, as PostgreSQL
//! does), and evaluated over the rows each INSERT, UPDATE or ON CONFLICT DO UPDATE writes,
//! and over a table's rows when one is added. A row passes unless the expression is false
//! (NULL passes). The catalog keeps them as [`CheckMeta`].

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::ExprSchemable;
use datafusion::sql::sqlparser::ast::{self, Expr as SqlExpr, visit_expressions, visit_expressions_mut};
use quartzdb_storage::QualifiedName;
use quartzdb_storage::TableMeta;
use quartzdb_storage::checks::CheckMeta;

use crate::error::{Error, Result};
use crate::names;
use crate::session::Session;

/// A CHECK constraint declared on `table` (whose columns `schema` holds): its expression must
/// be boolean, read only the table's columns and hold no subquery. Unnamed, it is named as
/// PostgreSQL names it: `<table>_<column>_check` when it reads one column, else
/// `<table>_check`, numbered when `taken` says the name is in use.
pub(crate) fn declared(session: &Session, table: &str, schema: SchemaRef, name: Option<&ast::Ident>, expr: &SqlExpr, taken: &dyn Fn(&str) -> bool) -> Result<CheckMeta> {
    let mut subquery = false;
    let _ = visit_expressions(expr, |e| {
        subquery |= matches!(e, SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::InSubquery { .. });
        std::ops::ControlFlow::<()>::Continue(())
    });
    if subquery {
        return Err(Error::Unsupported("subquery in check constraint".into()));
    }
    // Kept without table qualifiers (`t.a` as `a`), so the table can be renamed.
    let mut expr = expr.clone();
    let _ = visit_expressions_mut(&mut expr, |e| {
        if let SqlExpr::CompoundIdentifier(parts) = e
            && let Some(last) = parts.pop()
        {
            *e = SqlExpr::Identifier(last);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let text = expr.to_string();
    let df = frame(session, table, schema, vec![])?;
    let planned = df.parse_sql_expr(&text)?;
    let field = planned.to_field(df.schema())?.1;
    if !matches!(field.data_type(), DataType::Boolean | DataType::Null) {
        let pg = crate::pg_catalog::type_of::type_name(&field);
        return Err(Error::DatatypeMismatch(format!("argument of CHECK must be type boolean, not type {pg}")));
    }
    let mut columns: Vec<String> = Vec::new();
    for c in planned.column_refs() {
        if !columns.contains(&c.name) {
            columns.push(c.name.clone());
        }
    }
    // In the order the table has them, as `conkey` lists them.
    columns.sort_by_key(|c| df.schema().fields().iter().position(|f| f.name() == c));
    let name = match name {
        Some(n) => names::ident(n),
        None => {
            let base = match columns.as_slice() {
                [one] => format!("{table}_{one}_check"),
                _ => format!("{table}_check"),
            };
            std::iter::once(base.clone()).chain((1..).map(|n| format!("{base}{n}"))).find(|n| !taken(n)).expect("a free name")
        }
    };
    Ok(CheckMeta::new(name, text, columns))
}

/// Fails with PostgreSQL's 23514 at the first of `rows` (the table's stored columns) that a
/// CHECK of `meta` finds false, naming the first such constraint in name order, as PostgreSQL
/// does (it checks row by row).
pub(crate) async fn enforce(session: &Session, table: &str, meta: &TableMeta, schema: &SchemaRef, rows: &[RecordBatch]) -> Result<()> {
    if meta.checks.is_empty() || rows.iter().all(|b| b.num_rows() == 0) {
        return Ok(());
    }
    let mut checks: Vec<&CheckMeta> = meta.checks.iter().collect();
    checks.sort_by(|a, b| a.name.cmp(&b.name));
    let df = frame(session, table, schema.clone(), rows.to_vec())?;
    // One column per constraint, true where a row fails it; a projection keeps the rows' order.
    let mut failed = Vec::with_capacity(checks.len());
    for (i, check) in checks.iter().enumerate() {
        failed.push(df.parse_sql_expr(&check.expr)?.is_false().alias(format!("f{i}")));
    }
    let results = df.clone().select(failed)?.collect().await?;
    let mut row = 0;
    for batch in &results {
        let columns: Vec<&arrow::array::BooleanArray> = batch.columns().iter().map(|c| c.as_boolean()).collect();
        for r in 0..batch.num_rows() {
            if let Some(c) = columns.iter().position(|c| c.value(r)) {
                return Err(Error::CheckViolation {
                    message: format!("new row for relation \"{table}\" violates check constraint \"{}\"", checks[c].name),
                    detail: Some(format!("Failing row contains ({}).", row_text(rows, row + r)?)),
                });
            }
        }
        row += batch.num_rows();
    }
    Ok(())
}

/// `ALTER TABLE … ADD CHECK`: fails with 23514 when a row of the table (as this transaction
/// sees it) is against `check`.
pub(crate) async fn validate_existing(session: &Session, table: &QualifiedName, check: &CheckMeta) -> Result<()> {
    let sql = format!("SELECT 1 FROM {}.{} WHERE ({}) IS FALSE LIMIT 1", names::quote_ident(&table.schema), names::quote_ident(&table.name), check.expr);
    let stmt = quartzdb_sql::parse(&sql)?.pop().ok_or_else(|| Error::Internal("empty check query".into()))?;
    let plan = session.plan_query(stmt).await?;
    if session.collect(plan).await?.iter().any(|b| b.num_rows() > 0) {
        return Err(Error::CheckViolation { message: format!("check constraint \"{}\" of relation \"{}\" is violated by some row", check.name, table.name), detail: None });
    }
    Ok(())
}

/// `pg_get_constraintdef` of a CHECK: `CHECK ((a >= 0))`, or with `pretty` `CHECK (a >= 0)`;
/// an expression that is a single name, constant or call takes no parentheses of its own.
pub fn definition(check: &CheckMeta, pretty: bool) -> String {
    let bare = quartzdb_sql::parse_expr(&check.expr).is_ok_and(|e| matches!(e, SqlExpr::Identifier(_) | SqlExpr::Value(_) | SqlExpr::Function(_) | SqlExpr::Nested(_)));
    if pretty || bare { format!("CHECK ({})", check.expr) } else { format!("CHECK (({}))", check.expr) }
}

/// The rows as a table named `table`, for expressions over its columns.
fn frame(session: &Session, table: &str, schema: SchemaRef, rows: Vec<RecordBatch>) -> Result<DataFrame> {
    let mem = MemTable::try_new(schema, vec![rows])?;
    Ok(session.context().read_table(Arc::new(mem))?.alias(table)?)
}

/// Row `n` of `rows` as PostgreSQL's DETAIL shows it: its values' text, `null` for NULL.
fn row_text(rows: &[RecordBatch], mut n: usize) -> Result<String> {
    let batch = rows.iter().find(|b| if n < b.num_rows() { true } else { n -= b.num_rows(); false }).ok_or_else(|| Error::Internal("failing row out of range".into()))?;
    let mut values = Vec::with_capacity(batch.num_columns());
    for column in batch.columns() {
        values.push(match column.as_boolean_opt() {
            _ if column.is_null(n) => "null".to_string(),
            Some(b) => if b.value(n) { "t" } else { "f" }.to_string(),
            None => arrow::util::display::array_value_to_string(column, n)?,
        });
    }
    Ok(values.join(", "))
}
