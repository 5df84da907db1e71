//! `SET CONSTRAINTS { ALL | name, … } { DEFERRED | IMMEDIATE }`. QuartzDB checks every
//! constraint when its statement ends, also those declared DEFERRABLE (Django declares every
//! foreign key `DEFERRABLE INITIALLY DEFERRED`), so nothing is ever pending: IMMEDIATE has
//! nothing left to check, and DEFERRED changes nothing (docs/compatibility.md says so). The
//! statement is still checked as PostgreSQL checks it: named constraints must exist (42704)
//! and be deferrable (55000). Django's `TestCase` runs `SET CONSTRAINTS ALL IMMEDIATE` then
//! `ALL DEFERRED` after each test to check the deferred constraints.

use datafusion::sql::sqlparser::ast::Expr;
use quartzdb_storage::catalog::Catalog;

use crate::{Error, Result};

/// Checks the names a `SET CONSTRAINTS` statement lists (`values`, after its mode).
pub fn check(catalog: &Catalog, database: &str, values: &[Expr]) -> Result<()> {
    for value in values.iter().skip(1) {
        let Expr::CompoundIdentifier(parts) = value else { continue };
        let (schema, name) = match parts.as_slice() {
            [name] => (None, name.value.as_str()),
            [schema, name] => (Some(schema.value.as_str()), name.value.as_str()),
            _ => return Err(Error::UnknownConstraint(value.to_string())),
        };
        let db = catalog.database(database)?;
        let mut found = None;
        for (schema_name, s) in &db.schemas {
            if schema.is_some_and(|wanted| wanted != schema_name) {
                continue;
            }
            for t in s.tables.values() {
                if let Some(fk) = t.foreign_keys.iter().find(|fk| fk.name == name) {
                    found = Some(fk.deferrable);
                } else if t.constraints.iter().any(|c| c.name == name) || t.checks.iter().any(|c| c.name == name) {
                    found = found.or(Some(false));
                }
            }
        }
        match found {
            None => return Err(Error::UnknownConstraint(name.to_string())),
            Some(false) => return Err(Error::NotDeferrable(name.to_string())),
            Some(true) => {}
        }
    }
    Ok(())
}
