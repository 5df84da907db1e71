//! `VACUUM [FULL] [table]`: compacts the table's fragments, folds new rows into its indexes and
//! deletes files of old versions (every table of the database when none is named). This also
//! runs automatically after writes. `REINDEX INDEX | TABLE name` arrives here too (see
//! `quartzdb_sql::parser`) and rebuilds the index, or every index of the table.

use datafusion::sql::sqlparser::ast::VacuumStatement;

use crate::error::Result;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn execute(session: &mut Session, txn: &mut Txn, vacuum: VacuumStatement) -> Result<Output> {
    if vacuum.reindex {
        return reindex(session, txn, vacuum).await;
    }
    let targets = match &vacuum.table_name {
        Some(name) => vec![session.qualify(name)?],
        None => vec![],
    };
    let storage = session.storage().clone();
    storage.vacuum(txn, session.database(), &targets).await?;
    Ok(Output::Command(CommandTag::new("VACUUM")))
}

async fn reindex(session: &mut Session, txn: &mut Txn, vacuum: VacuumStatement) -> Result<Output> {
    let name = vacuum.table_name.as_ref().map(|n| session.qualify(n)).transpose()?;
    let Some(name) = name else { return Err(crate::Error::Syntax("REINDEX needs a name".into())) };
    let storage = session.storage().clone();
    storage.reindex(txn, session.database(), &name, session.pid()).await?;
    Ok(Output::Command(CommandTag::new("REINDEX")))
}
