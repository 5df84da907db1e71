//! `VACUUM [FULL] [table]`: compacts the table's fragments and deletes files of old versions
//! (every table of the database when none is named). This also runs automatically after writes.

use datafusion::sql::sqlparser::ast::VacuumStatement;

use crate::error::Result;
use crate::output::{CommandTag, Output};
use crate::session::Session;

pub async fn execute(session: &mut Session, vacuum: VacuumStatement) -> Result<Output> {
    let targets = match &vacuum.table_name {
        Some(name) => vec![session.qualify(name)?],
        None => vec![],
    };
    let storage = session.storage().clone();
    let guard = storage.write_lock().await;
    storage.vacuum(&guard, session.database(), &targets).await?;
    Ok(Output::Command(CommandTag::new("VACUUM")))
}
