//! `SET CONSTRAINTS { ALL | name, … } { DEFERRED | IMMEDIATE }`: which DEFERRABLE foreign keys
//! of the transaction are checked at COMMIT (storage's `deferred`); IMMEDIATE also runs the
//! checks deferred so far. Named constraints must exist (42704) and be deferrable (55000), as
//! in PostgreSQL; CHECK, UNIQUE and PRIMARY KEY constraints are never deferrable in QuartzDB.
//! Django's `TestCase` runs `SET CONSTRAINTS ALL IMMEDIATE` then `ALL DEFERRED` after each
//! test to surface the violations its deferred foreign keys would report at COMMIT.

use datafusion::sql::sqlparser::ast::Expr;
use quartzdb_storage::catalog::Catalog;

use crate::{Error, Result};

/// The mode (`true` for DEFERRED) and the constraints' names (`None` for ALL) of a parsed
/// `SET CONSTRAINTS` (`values`: the mode, then the names), its names checked.
pub fn resolve(catalog: &Catalog, database: &str, values: &[Expr]) -> Result<(bool, Option<Vec<String>>)> {
    let deferred = matches!(values.first(), Some(Expr::Identifier(i)) if i.value == "DEFERRED");
    let mut names = Vec::new();
    for value in values.iter().skip(1) {
        let Expr::CompoundIdentifier(parts) = value else { continue };
        let parts: Vec<String> = parts.iter().map(crate::names::ident).collect();
        let (schema, name) = match parts.as_slice() {
            [name] => (None, name.as_str()),
            [schema, name] => (Some(schema.as_str()), name.as_str()),
            _ => return Err(Error::UnknownConstraint(value.to_string())),
        };
        check(catalog, database, schema, name)?;
        names.push(name.to_string());
    }
    Ok((deferred, (values.len() > 1).then_some(names)))
}

/// A constraint so named must exist (in `schema`, or any) and every one so named be deferrable.
fn check(catalog: &Catalog, database: &str, schema: Option<&str>, name: &str) -> Result<()> {
    let db = catalog.database(database)?;
    let mut found = None;
    for (schema_name, s) in &db.schemas {
        if schema.is_some_and(|wanted| wanted != schema_name) {
            continue;
        }
        for t in s.tables.values() {
            // PostgreSQL refuses the statement if any constraint so named is not deferrable.
            if let Some(fk) = t.foreign_keys.iter().find(|fk| fk.name == name) {
                found = Some(found.unwrap_or(true) && fk.deferrable);
            } else if t.constraints.iter().any(|c| c.name == name) || t.checks.iter().any(|c| c.name == name) {
                found = Some(false);
            }
        }
    }
    match found {
        None => Err(Error::UnknownConstraint(name.to_string())),
        Some(false) => Err(Error::NotDeferrable(name.to_string())),
        Some(true) => Ok(()),
    }
}
