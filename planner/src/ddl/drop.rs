//! `DROP TABLE | VIEW | SCHEMA | SEQUENCE [IF EXISTS] name [, ...] [CASCADE]`.

use datafusion::sql::sqlparser::ast::{ObjectName, ObjectType};
use quartzdb_storage::DropKind;

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn execute(session: &mut Session, txn: &mut Txn, object_type: ObjectType, if_exists: bool, objects: Vec<ObjectName>, cascade: bool) -> Result<Output> {
    let (kind, tag) = match object_type {
        ObjectType::Table => (DropKind::Table { cascade }, "DROP TABLE"),
        ObjectType::View => (DropKind::View, "DROP VIEW"),
        ObjectType::Schema => (DropKind::Schema { cascade }, "DROP SCHEMA"),
        ObjectType::Sequence => (DropKind::Sequence, "DROP SEQUENCE"),
        other => return Err(Error::Unsupported(format!("DROP {other}"))),
    };
    let storage = session.storage().clone();
    // PostgreSQL checks every name before dropping any.
    let mut targets = Vec::with_capacity(objects.len());
    for name in &objects {
        let qname = match kind {
            DropKind::Schema { .. } => quartzdb_storage::QualifiedName::new(names::single(name)?, ""),
            _ => session.qualify(name)?,
        };
        targets.push(qname);
    }
    storage.drop_objects(txn, session.database(), kind, &targets, if_exists).await?;
    Ok(Output::Command(CommandTag::new(tag)))
}
