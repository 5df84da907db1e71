//! `TRUNCATE [TABLE] name [, ...] [RESTART IDENTITY] [CASCADE]`: all named tables (with CASCADE,
//! also every table that references one of them through a FOREIGN KEY) are emptied in one
//! catalog commit.

use datafusion::sql::sqlparser::ast::{CascadeOption, Truncate, TruncateIdentityOption};

use crate::error::Result;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn execute(session: &mut Session, txn: &mut Txn, truncate: Truncate) -> Result<Output> {
    let mut targets = Vec::new();
    for t in &truncate.table_names {
        targets.push(session.qualify(&t.name)?);
    }
    if truncate.cascade == Some(CascadeOption::Cascade) {
        // The referencing tables, and theirs, as PostgreSQL's CASCADE takes them.
        let catalog = txn.catalog();
        let mut i = 0;
        while i < targets.len() {
            if let Ok(meta) = catalog.table(session.database(), &targets[i]) {
                for (child, _, _) in catalog.referencing(session.database(), meta.oid) {
                    if !targets.contains(&child) {
                        targets.push(child);
                    }
                }
            }
            i += 1;
        }
    }
    let restart = matches!(truncate.identity, Some(TruncateIdentityOption::Restart));
    let storage = session.storage().clone();
    storage.truncate(txn, session.database(), &targets, restart).await?;
    Ok(Output::Command(CommandTag::new("TRUNCATE TABLE")))
}
