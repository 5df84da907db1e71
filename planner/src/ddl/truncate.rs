//! `TRUNCATE [TABLE] name [, ...] [RESTART IDENTITY]`: all named tables are emptied in one
//! catalog commit.

use datafusion::sql::sqlparser::ast::{Truncate, TruncateIdentityOption};

use crate::error::Result;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn execute(session: &mut Session, txn: &mut Txn, truncate: Truncate) -> Result<Output> {
    let mut targets = Vec::new();
    for t in &truncate.table_names {
        targets.push(session.qualify(&t.name)?);
    }
    let restart = matches!(truncate.identity, Some(TruncateIdentityOption::Restart));
    let storage = session.storage().clone();
    storage.truncate(txn, session.database(), &targets, restart).await?;
    Ok(Output::Command(CommandTag::new("TRUNCATE TABLE")))
}
