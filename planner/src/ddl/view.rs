//! `CREATE [OR REPLACE] VIEW`: the query is checked by planning it, then stored as text.

use datafusion::sql::sqlparser::ast::{CreateView, Statement};
use quartzdb_storage::ViewMeta;

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn create(session: &mut Session, txn: &mut Txn, view: CreateView) -> Result<Output> {
    if view.materialized || view.temporary {
        return Err(Error::Unsupported("materialized or temporary views".into()));
    }
    let qname = session.qualify(&view.name)?;
    let plan = session.plan_query(Statement::Query(view.query.clone())).await?;
    let columns: Vec<String> = view.columns.iter().map(|c| names::ident(&c.name)).collect();
    if columns.len() > plan.schema().fields().len() {
        return Err(Error::Syntax("CREATE VIEW specifies more column names than columns".into()));
    }
    // The result columns as the catalog shows them (aliases replace the query's names).
    let column_types = plan
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (columns.get(i).cloned().unwrap_or_else(|| names::client_name(f.name()).to_string()), crate::pg_catalog::type_of::type_name(f)))
        .collect();
    let meta = ViewMeta { oid: 0, query: view.query.to_string(), columns, column_types, comment: None, column_comments: Default::default() };
    let storage = session.storage().clone();
    let created = storage.create_view(txn, session.database(), &qname, meta, view.or_replace, view.if_not_exists).await?;
    if created && view.or_replace {
        // A replaced view may now reach itself through another (a reads b, b reads a): expand
        // it once more, as PostgreSQL checks, so the cycle fails here rather than every query.
        let sql = format!("SELECT * FROM {}.{}", names::quote_ident(&qname.schema), names::quote_ident(&qname.name));
        if let Some(stmt) = quartzdb_sql::parse(&sql)?.pop() {
            session.plan_query(stmt).await?;
        }
    }
    Ok(Output::Command(CommandTag::new("CREATE VIEW")))
}
