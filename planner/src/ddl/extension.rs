//! `CREATE EXTENSION [IF NOT EXISTS] vector` and `DROP EXTENSION vector`.
//!
//! pgvector is built into QuartzDB, so the extension is always installed: CREATE succeeds (with
//! or without IF NOT EXISTS, so migrations written for PostgreSQL run unchanged) and DROP is
//! refused while vector columns exist (and otherwise does nothing). `plpgsql` is accepted the
//! same way, as PostgreSQL always has it; other extensions are not available.

use datafusion::sql::sqlparser::ast::{CreateExtension, DropExtension, Ident, ReferentialAction};

use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};
use crate::session::Session;
use crate::vector::VECTOR;

/// Extensions that are part of QuartzDB.
const BUILT_IN: [&str; 2] = [VECTOR, "plpgsql"];

fn built_in(name: &Ident) -> Result<&'static str> {
    let name = crate::names::ident(name);
    BUILT_IN
        .into_iter()
        .find(|b| *b == name)
        .ok_or_else(|| Error::Unsupported(format!("extension \"{name}\" (QuartzDB has vector built in)")))
}

pub async fn create(_session: &mut Session, create: CreateExtension) -> Result<Output> {
    built_in(&create.name)?;
    Ok(Output::Command(CommandTag::new("CREATE EXTENSION")))
}

pub async fn drop(session: &mut Session, drop: DropExtension) -> Result<Output> {
    for name in &drop.names {
        let ext = match built_in(name) {
            Ok(e) => e,
            Err(_) if drop.if_exists => continue,
            Err(_) => return Err(Error::UndefinedObject(format!("extension \"{}\" does not exist", crate::names::ident(name)))),
        };
        if ext == VECTOR {
            if let Some(detail) = vector_columns(session)? {
                let hint = if matches!(drop.cascade_or_restrict, Some(ReferentialAction::Cascade)) {
                    " (QuartzDB does not drop tables with DROP EXTENSION … CASCADE)"
                } else {
                    ""
                };
                return Err(Error::DependentObjects {
                    message: format!("cannot drop extension vector because other objects depend on it{hint}"),
                    detail,
                });
            }
        }
    }
    Ok(Output::Command(CommandTag::new("DROP EXTENSION")))
}

/// PostgreSQL's DETAIL listing the columns that use the vector type, if any.
fn vector_columns(session: &Session) -> Result<Option<String>> {
    let catalog = session.catalog();
    let db = catalog.database(session.database())?;
    let mut lines = Vec::new();
    for (schema, s) in &db.schemas {
        for (table, t) in &s.tables {
            for c in &t.columns {
                let base = c.type_name.split('(').next().unwrap_or_default();
                if crate::vector::Kind::from_name(base).is_some() || base == crate::vector::sparse::SPARSEVEC {
                    let table = if schema == "public" { table.clone() } else { format!("{schema}.{table}") };
                    lines.push(format!("column {} of table {table} depends on type {base}", c.name));
                }
            }
        }
    }
    Ok((!lines.is_empty()).then(|| lines.join("\n")))
}
