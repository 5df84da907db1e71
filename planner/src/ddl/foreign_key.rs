//! FOREIGN KEY declarations (`REFERENCES p [(cols)]` on a column, `FOREIGN KEY (cols)
//! REFERENCES p [(cols)]` on a table or in `ALTER TABLE … ADD CONSTRAINT`), read into what
//! storage resolves and enforces (see `quartzdb_storage::foreign_keys`, and `Storage::
//! commit_rows` for ON DELETE CASCADE and SET NULL).

use datafusion::sql::sqlparser::ast::{DeferrableInitial, ForeignKeyConstraint, ReferentialAction};
use quartzdb_storage::foreign_keys::NewForeignKey;
use quartzdb_storage::QualifiedName;

use crate::error::{Error, Result};
use crate::names;

/// The `pg_constraint` letter of an action: NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT.
fn action(a: Option<ReferentialAction>) -> char {
    match a {
        None | Some(ReferentialAction::NoAction) => 'a',
        Some(ReferentialAction::Restrict) => 'r',
        Some(ReferentialAction::Cascade) => 'c',
        Some(ReferentialAction::SetNull) => 'n',
        Some(ReferentialAction::SetDefault) => 'd',
    }
}

/// Reads a FOREIGN KEY of table `table`; `columns` is the column it is declared on, for the
/// column form (whose own column list is empty).
pub fn declared(session_schema: impl Fn(&datafusion::sql::sqlparser::ast::ObjectName) -> Result<QualifiedName>, table: &str, fk: &ForeignKeyConstraint, column: Option<&str>) -> Result<NewForeignKey> {
    let columns: Vec<String> = match column {
        Some(c) if fk.columns.is_empty() => vec![c.to_string()],
        _ => fk.columns.iter().map(names::ident).collect(),
    };
    let characteristics = fk.characteristics.as_ref();
    let deferrable = characteristics.and_then(|c| c.deferrable).unwrap_or(false);
    let initially_deferred = characteristics.and_then(|c| c.initially) == Some(DeferrableInitial::Deferred);
    if initially_deferred && !deferrable && characteristics.and_then(|c| c.deferrable) == Some(false) {
        return Err(Error::Syntax("constraint declared INITIALLY DEFERRED must be DEFERRABLE".into()));
    }
    if fk.match_kind.as_ref().is_some_and(|m| !matches!(m, datafusion::sql::sqlparser::ast::ConstraintReferenceMatchKind::Simple)) {
        return Err(Error::Unsupported("MATCH FULL and MATCH PARTIAL foreign keys (MATCH SIMPLE, the default, works)".into()));
    }
    if characteristics.and_then(|c| c.enforced) == Some(false) {
        return Err(Error::Unsupported("NOT ENFORCED foreign keys".into()));
    }
    let name = fk.name.as_ref().map(names::ident).unwrap_or_else(|| format!("{table}_{}_fkey", columns.join("_")));
    Ok(NewForeignKey {
        name,
        columns,
        ref_table: session_schema(&fk.foreign_table)?,
        ref_columns: fk.referred_columns.iter().map(names::ident).collect(),
        on_delete: action(fk.on_delete),
        on_update: action(fk.on_update),
        // PostgreSQL: INITIALLY DEFERRED implies DEFERRABLE.
        deferrable: deferrable || initially_deferred,
        initially_deferred,
    })
}
