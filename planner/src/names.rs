//! Resolving SQL object names the way PostgreSQL does: unquoted identifiers fold to lower case,
//! quoted ones keep their case, and an unqualified name lives in the current schema.

use datafusion::sql::sqlparser::ast::{Ident, ObjectName};
use quartzdb_storage::QualifiedName;

use crate::error::{Error, Result};

/// Folds an identifier as PostgreSQL does.
pub fn ident(i: &Ident) -> String {
    if i.quote_style.is_some() { i.value.clone() } else { i.value.to_lowercase() }
}

/// Resolves `[db.][schema.]name` against the session's database and default schema.
pub fn qualified(name: &ObjectName, database: &str, default_schema: &str) -> Result<QualifiedName> {
    let parts = name
        .0
        .iter()
        .map(|p| p.as_ident().map(ident).ok_or_else(|| Error::Syntax(format!("invalid name {name}"))))
        .collect::<Result<Vec<_>>>()?;
    match parts.as_slice() {
        [n] => Ok(QualifiedName::new(default_schema, n)),
        [s, n] => Ok(QualifiedName::new(s, n)),
        [d, s, n] if d == database => Ok(QualifiedName::new(s, n)),
        [d, _, _] => Err(Error::Unsupported(format!("cross-database references (\"{d}\")"))),
        _ => Err(Error::Syntax(format!("improper qualified name (too many dotted names): {name}"))),
    }
}

/// A single unqualified name, e.g. a schema's.
pub fn single(name: &ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [p] => p.as_ident().map(ident).ok_or_else(|| Error::Syntax(format!("invalid name {name}"))),
        _ => Err(Error::Syntax(format!("improper name: {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn name(s: &str) -> ObjectName {
        Parser::new(&PostgreSqlDialect {}).try_with_sql(s).unwrap().parse_object_name(false).unwrap()
    }

    #[test]
    fn folds_and_qualifies_like_postgres() {
        assert_eq!(qualified(&name("Items"), "quartz", "public").unwrap(), QualifiedName::new("public", "items"));
        assert_eq!(qualified(&name("\"Items\""), "quartz", "public").unwrap(), QualifiedName::new("public", "Items"));
        assert_eq!(qualified(&name("s.t"), "quartz", "public").unwrap(), QualifiedName::new("s", "t"));
        assert_eq!(qualified(&name("quartz.s.t"), "quartz", "public").unwrap(), QualifiedName::new("s", "t"));
        assert!(qualified(&name("other.s.t"), "quartz", "public").is_err());
    }
}
