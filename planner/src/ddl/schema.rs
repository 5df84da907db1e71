//! `CREATE SCHEMA [IF NOT EXISTS]`.

use datafusion::sql::sqlparser::ast::SchemaName;

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;

pub async fn create(session: &mut Session, name: SchemaName, if_not_exists: bool) -> Result<Output> {
    let name = match name {
        SchemaName::Simple(n) => names::single(&n)?,
        _ => return Err(Error::Unsupported("CREATE SCHEMA … AUTHORIZATION".into())),
    };
    let storage = session.storage().clone();
    let guard = storage.write_lock().await;
    storage.create_schema(&guard, session.database(), &name, if_not_exists).await?;
    Ok(Output::Command(CommandTag::new("CREATE SCHEMA")))
}
