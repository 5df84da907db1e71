//! `UPDATE t [AS a] SET c = e, … [FROM …] [WHERE …] [RETURNING …]`.
//!
//! One query finds the rows and computes their new values:
//! `SELECT a._rowaddr, CAST(e AS type) AS c | a.c, …, a.* FROM t AS a [, from…] WHERE …`.
//! The old rows are deleted and the new ones appended in one commit.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::ParamValues;
use datafusion::sql::sqlparser::ast::{Assignment, AssignmentTarget, Expr as SqlExpr, SelectItem, Update, UpdateTableFromKind};
use quartzdb_storage::{ROW_ADDR, RowChange, TableMeta, Txn};

use crate::dml::{Target, check, columns, describe_matching, finish, matching_rows, quote, row_addrs, target};
use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::{Description, Session, row_count};

pub async fn execute(session: &mut Session, txn: &mut Txn, update: Update, params: Option<ParamValues>) -> Result<Output> {
    let target = target(session, &update.table)?;
    let storage = session.storage().clone();
    let meta = txn.catalog().table(session.database(), &target.qname)?.clone();
    let dataset = storage.txn_dataset(txn, &meta).await?;
    let schema = Arc::new(quartzdb_storage::table_schema(&dataset));
    let (sql, returning) = row_query(&target, &meta, update)?;
    let rows = matching_rows(session, &target, &sql, params).await?;
    let n = row_count(&rows);
    let width = schema.fields().len();
    let new = columns(&rows, 1..1 + width, &schema)?;
    let new = check::conform(&target.qname.name, &meta, &schema, new)?;
    crate::check_constraint::enforce(session, &target.qname.name, &meta, &schema, &new).await?;
    if n > 0 {
        Box::pin(crate::dml::set_default::prepare(session, txn)).await?;
        let old = if meta.constraints.is_empty() { vec![] } else { columns(&rows, 1 + width..1 + 2 * width, &schema)? };
        let change = RowChange { deleted_addrs: row_addrs(&rows), deleted_rows: old, inserted: new.clone(), updated_from: Some(0) };
        storage.commit_rows(txn, session.database(), &target.qname, change).await?;
    }
    finish(session, &target, schema, new, returning, CommandTag::new("UPDATE").with_rows(n)).await
}

pub async fn describe(session: &Session, update: Update) -> Result<Description> {
    let target = target(session, &update.table)?;
    let meta = session.catalog().table(session.database(), &target.qname)?.clone();
    let (sql, returning) = row_query(&target, &meta, update)?;
    describe_matching(session, &target, &sql, returning).await
}

fn row_query(target: &Target, meta: &TableMeta, update: Update) -> Result<(String, Option<Vec<SelectItem>>)> {
    if update.limit.is_some() || !update.order_by.is_empty() {
        return Err(Error::Syntax("UPDATE does not take ORDER BY or LIMIT".into()));
    }
    let assigned = assignments(&target.qname.name, meta, update.assignments)?;
    let a = quote(&target.alias);
    let mut sql = format!("SELECT {a}.{ROW_ADDR} AS __rowaddr, {} FROM {}", new_and_old(&a, meta, &assigned), target.from);
    if let Some(UpdateTableFromKind::AfterSet(from) | UpdateTableFromKind::BeforeSet(from)) = &update.from {
        for t in from {
            sql.push_str(&format!(", {t}"));
        }
    }
    if let Some(selection) = &update.selection {
        sql.push_str(&format!(" WHERE {selection}"));
    }
    Ok((sql, update.returning))
}

/// Checks SET assignments against the table and resolves `DEFAULT`: column name → expression.
pub(crate) fn assignments(table: &str, meta: &TableMeta, list: Vec<Assignment>) -> Result<HashMap<String, SqlExpr>> {
    let mut assigned: HashMap<String, SqlExpr> = HashMap::new();
    for a in list {
        let names = match &a.target {
            AssignmentTarget::ColumnName(n) => vec![n.clone()],
            AssignmentTarget::Tuple(_) => return Err(Error::Unsupported("UPDATE SET (a, b) = …".into())),
        };
        let column = match names[0].0.as_slice() {
            [p] => p.as_ident().map(names::ident),
            // `SET a.c = …` is not valid PostgreSQL either (it reads `a` as a composite column).
            _ => None,
        }
        .ok_or_else(|| Error::Syntax(format!("invalid column in SET: {}", names[0])))?;
        let Some(col) = meta.columns.iter().find(|c| c.name == column) else {
            return Err(Error::UnknownColumn { table: table.to_string(), column });
        };
        let is_default = matches!(&a.value, SqlExpr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"));
        if col.generated_always && !is_default {
            return Err(Error::GeneratedAlwaysUpdate(column));
        }
        let value = if is_default {
            match &col.default {
                Some(text) => quartzdb_sql::parse_expr(text)?,
                None => SqlExpr::Value(datafusion::sql::sqlparser::ast::Value::Null.into()),
            }
        } else {
            a.value
        };
        if assigned.insert(column.clone(), value).is_some() {
            return Err(Error::Syntax(format!("multiple assignments to same column \"{column}\"")));
        }
    }
    Ok(assigned)
}

/// `<new values>, <old values>` of every column, for the row query of an UPDATE: assigned
/// columns take `CAST(expr AS type)`, the others keep `alias.col`. Output names only need to be
/// unique; rows are read by position.
pub(crate) fn new_and_old(alias: &str, meta: &TableMeta, assigned: &HashMap<String, SqlExpr>) -> String {
    let mut select = Vec::with_capacity(2 * meta.columns.len());
    for (i, col) in meta.columns.iter().enumerate() {
        let c = quote(&col.name);
        select.push(match assigned.get(&col.name) {
            Some(e) => match crate::types::assignment_sql(&col.type_name, &e.to_string()) {
                Some(sql) => format!("{sql} AS __new_{i}"),
                None => format!("CAST(({e}) AS {}) AS __new_{i}", col.type_name),
            },
            None => format!("{alias}.{c} AS __new_{i}"),
        });
    }
    for (i, col) in meta.columns.iter().enumerate() {
        select.push(format!("{alias}.{} AS __old_{i}", quote(&col.name)));
    }
    select.join(", ")
}
