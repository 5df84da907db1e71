//! `DELETE FROM t [AS a] [USING …] [WHERE …] [RETURNING …]`.

use std::sync::Arc;

use datafusion::common::ParamValues;
use datafusion::sql::sqlparser::ast::{Delete, FromTable};
use quartzdb_storage::{ROW_ADDR, RowChange, Txn};

use crate::dml::{Target, columns, describe_matching, finish, matching_rows, quote, row_addrs, target};
use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};
use crate::session::{Description, Session, row_count};

pub async fn execute(session: &mut Session, txn: &mut Txn, delete: Delete, params: Option<ParamValues>) -> Result<Output> {
    let (target, sql, returning) = row_query(session, delete)?;
    let storage = session.storage().clone();
    let meta = txn.catalog().table(session.database(), &target.qname)?.clone();
    let dataset = storage.txn_dataset(txn, &meta).await?;
    let schema = Arc::new(quartzdb_storage::table_schema(&dataset));
    let rows = matching_rows(session, &target, &sql, params).await?;
    let n = row_count(&rows);
    let old = columns(&rows, 1..1 + schema.fields().len(), &schema)?;
    if n > 0 {
        Box::pin(crate::dml::set_default::prepare(session, txn)).await?;
        let change = RowChange { deleted_addrs: row_addrs(&rows), deleted_rows: old.clone(), ..Default::default() };
        storage.commit_rows(txn, session.database(), &target.qname, change).await?;
    }
    finish(session, &target, schema, old, returning, CommandTag::new("DELETE").with_rows(n)).await
}

pub async fn describe(session: &Session, delete: Delete) -> Result<Description> {
    let (target, sql, returning) = row_query(session, delete)?;
    describe_matching(session, &target, &sql, returning).await
}

/// `SELECT a._rowaddr, a.* FROM t AS a [, using…] [WHERE …]`.
fn row_query(session: &Session, delete: Delete) -> Result<(Target, String, Option<Vec<datafusion::sql::sqlparser::ast::SelectItem>>)> {
    if delete.limit.is_some() || !delete.order_by.is_empty() {
        return Err(Error::Syntax("DELETE does not take ORDER BY or LIMIT".into()));
    }
    let tables = match &delete.from {
        FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
    };
    let [table] = tables.as_slice() else {
        return Err(Error::Syntax("DELETE names one table; use USING for others".into()));
    };
    let target = target(session, table)?;
    let mut sql = format!("SELECT {a}.{addr} AS __rowaddr, {a}.* FROM {}", target.from, a = quote(&target.alias), addr = ROW_ADDR);
    for using in delete.using.iter().flatten() {
        sql.push_str(&format!(", {using}"));
    }
    if let Some(selection) = &delete.selection {
        sql.push_str(&format!(" WHERE {selection}"));
    }
    Ok((target, sql, delete.returning))
}
