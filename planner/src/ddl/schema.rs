//! `CREATE SCHEMA [IF NOT EXISTS]`.

use datafusion::sql::sqlparser::ast::SchemaName;

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn create(session: &mut Session, txn: &mut Txn, name: SchemaName, if_not_exists: bool) -> Result<Output> {
    let name = match name {
        SchemaName::Simple(n) => names::single(&n)?,
        _ => return Err(Error::Unsupported("CREATE SCHEMA … AUTHORIZATION".into())),
    };
    let storage = session.storage().clone();
    storage.create_schema(txn, session.database(), &name, if_not_exists).await?;
    Ok(Output::Command(CommandTag::new("CREATE SCHEMA")))
}
