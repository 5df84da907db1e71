//! CHECK constraints as the catalog keeps them: a name and a boolean SQL expression over the
//! table's columns. The planner checks the expression when the constraint is made and evaluates
//! it on every row written (storage cannot evaluate SQL); here it is stored, renamed with its
//! columns and dropped with them.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Ident, visit_expressions_mut};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckMeta {
    pub name: String,
    /// The expression's SQL text, without the `CHECK ( )` around it.
    pub expr: String,
    /// The columns it reads, for DROP COLUMN (which drops it, as PostgreSQL does) and
    /// `pg_constraint.conkey`.
    pub columns: Vec<String>,
    /// `pg_constraint.oid`; zero until the catalog assigns it.
    #[serde(default)]
    pub oid: u32,
    /// `COMMENT ON CONSTRAINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl CheckMeta {
    pub fn new(name: String, expr: String, columns: Vec<String>) -> Self {
        Self { name, expr, columns, oid: 0, comment: None }
    }

    /// `ALTER TABLE … RENAME COLUMN from TO to`: the expression's references follow.
    pub fn rename_column(&mut self, from: &str, to: &str) {
        if !self.columns.iter().any(|c| c == from) {
            return;
        }
        self.expr = rename_identifier(&self.expr, from, to);
        for c in self.columns.iter_mut().filter(|c| *c == from) {
            *c = to.to_string();
        }
    }
}

/// Whether `name` already names one of the table's constraints (names are unique per table).
pub fn name_taken(table: &TableMeta, name: &str) -> bool {
    table.constraints.iter().any(|c| c.name == name) || table.foreign_keys.iter().any(|f| f.name == name) || table.checks.iter().any(|c| c.name == name)
}

/// `expr` with each column reference naming `from` replaced by `to` (quoted when it must be):
/// on the parsed expression, so literals, keywords and function names stay what they were.
fn rename_identifier(expr: &str, from: &str, to: &str) -> String {
    let Ok(mut parsed) = Parser::new(&PostgreSqlDialect {}).try_with_sql(expr).and_then(|mut p| p.parse_expr()) else { return expr.to_string() };
    let _ = visit_expressions_mut(&mut parsed, |e| {
        match e {
            Expr::Identifier(i) if column_name(i) == from => *i = ident(to),
            Expr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last_mut().filter(|i| column_name(i) == from) {
                    *last = ident(to);
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    parsed.to_string()
}

/// The name an identifier means: unquoted ones fold to lower case.
fn column_name(i: &Ident) -> String {
    match i.quote_style {
        Some(_) => i.value.clone(),
        None => i.value.to_lowercase(),
    }
}

/// An identifier for `name`, quoted unless it reads the same unquoted.
fn ident(name: &str) -> Ident {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_') && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain { Ident::new(name) } else { Ident::with_quote('"', name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_a_column_rewrites_its_references_only() {
        let mut c = CheckMeta::new("t_a_check".into(), "a >= 0 AND length('a') < \"A\" + ab".into(), vec!["a".into(), "A".into(), "ab".into()]);
        c.rename_column("a", "Total Sum");
        assert_eq!(c.expr, "\"Total Sum\" >= 0 AND length('a') < \"A\" + ab");
        assert_eq!(c.columns, vec!["Total Sum", "A", "ab"]);
        c.rename_column("A", "b");
        assert_eq!(c.expr, "\"Total Sum\" >= 0 AND length('a') < b + ab");
        c.rename_column("zz", "y");
        assert_eq!(c.expr, "\"Total Sum\" >= 0 AND length('a') < b + ab");
        // Function names, literals with quotes, keywords and types stay.
        let mut f = CheckMeta::new("t_check".into(), "length(length) > 0 AND note <> 'don''t' AND EXTRACT(year FROM year) > 2000 AND year::text <> ''".into(), vec!["length".into(), "note".into(), "year".into()]);
        f.rename_column("length", "len");
        f.rename_column("year", "yr");
        assert_eq!(f.expr, "length(len) > 0 AND note <> 'don''t' AND EXTRACT(YEAR FROM yr) > 2000 AND yr::TEXT <> ''");
    }
}
