//! `TRUNCATE [TABLE] name [, ...] [RESTART IDENTITY]`: all named tables are emptied in one
//! catalog commit.

use datafusion::sql::sqlparser::ast::{Truncate, TruncateIdentityOption};

use crate::error::Result;
use crate::output::{CommandTag, Output};
use crate::session::Session;

pub async fn execute(session: &mut Session, truncate: Truncate) -> Result<Output> {
    let mut targets = Vec::new();
    for t in &truncate.table_names {
        targets.push(session.qualify(&t.name)?);
    }
    let restart = matches!(truncate.identity, Some(TruncateIdentityOption::Restart));
    let storage = session.storage().clone();
    let guard = storage.write_lock().await;
    storage.truncate(&guard, session.database(), &targets, restart).await?;
    Ok(Output::Command(CommandTag::new("TRUNCATE TABLE")))
}
