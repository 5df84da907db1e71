//! `COMMENT ON TABLE | VIEW | SEQUENCE | INDEX | COLUMN | SCHEMA | DATABASE | ROLE … IS 'text' | NULL`
//! and `COMMENT ON CONSTRAINT c ON t …`.
//! The comments show in `pg_description` / `pg_shdescription` and through `obj_description`,
//! `col_description` and `shobj_description`, where psql's `\d+`, JDBC and SQLAlchemy read them.

use datafusion::sql::sqlparser::ast::{CommentObject, ObjectName, Statement};
use quartzdb_storage::{CommentTarget, QualifiedName, Txn};

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;

pub async fn execute(session: &mut Session, txn: &mut Txn, object_type: CommentObject, name: ObjectName, comment: Option<String>) -> Result<Output> {
    let target = match object_type {
        CommentObject::Table if name.0.first().and_then(|p| p.as_ident()).is_some_and(|i| i.value == quartzdb_sql::CONSTRAINT_MARKER) => {
            let mut parts = name.0;
            parts.remove(0);
            let constraint = parts.pop().and_then(|p| p.as_ident().map(names::ident)).ok_or_else(|| Error::Syntax("constraint name expected".into()))?;
            CommentTarget::Constraint(session.qualify(&ObjectName(parts))?, constraint)
        }
        CommentObject::Table => CommentTarget::Table(session.qualify(&name)?),
        CommentObject::View => CommentTarget::View(session.qualify(&name)?),
        CommentObject::Sequence => CommentTarget::Sequence(session.qualify(&name)?),
        CommentObject::Index => CommentTarget::Index(session.qualify(&name)?),
        CommentObject::Schema => CommentTarget::Schema(names::single(&name)?),
        CommentObject::Database => CommentTarget::Database(names::single(&name)?),
        CommentObject::Role | CommentObject::User => CommentTarget::Role(names::single(&name)?),
        CommentObject::Column => column(session, txn, name).await?,
        other => return Err(Error::Unsupported(format!("COMMENT ON {other}"))),
    };
    let storage = session.storage().clone();
    storage.comment(txn, session.database(), &target, comment).await?;
    Ok(Output::Command(CommandTag::new("COMMENT")))
}

/// `[schema.]relation.column`. A view's columns are checked by planning the view, since the
/// catalog keeps only its query.
async fn column(session: &mut Session, txn: &Txn, name: ObjectName) -> Result<CommentTarget> {
    let mut parts = name.0;
    let column = parts.pop().and_then(|p| p.as_ident().map(names::ident));
    let (Some(column), false) = (column, parts.is_empty()) else {
        return Err(Error::Syntax("column name must be qualified".into()));
    };
    let relation = session.qualify(&ObjectName(parts))?;
    let catalog = txn.catalog();
    let is_view = catalog.schema(session.database(), &relation.schema).is_ok_and(|s| s.views.contains_key(&relation.name));
    if is_view {
        let number = view_column(session, &relation, &column).await?;
        return Ok(CommentTarget::ViewColumn(relation, number));
    }
    Ok(CommentTarget::Column(relation, column))
}

/// The number (from 1) of a view's column, found by planning the view.
async fn view_column(session: &mut Session, view: &QualifiedName, column: &str) -> Result<i16> {
    let sql = format!("SELECT * FROM {}.{}", names::quote_ident(&view.schema), names::quote_ident(&view.name));
    let Some(query @ Statement::Query(_)) = quartzdb_sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("view query".into()));
    };
    let plan = session.plan_query(query).await?;
    match plan.schema().fields().iter().position(|f| f.name() == column) {
        Some(i) => Ok(i as i16 + 1),
        None => Err(quartzdb_storage::Error::UnknownColumn { table: view.name.clone(), column: column.to_string() }.into()),
    }
}
