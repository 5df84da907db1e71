//! CHECK constraints as the catalog keeps them: a name and a boolean SQL expression over the
//! table's columns. The planner checks the expression when the constraint is made and evaluates
//! it on every row written (storage cannot evaluate SQL); here it is stored, renamed with its
//! columns and dropped with them.

use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};
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
}

impl CheckMeta {
    pub fn new(name: String, expr: String, columns: Vec<String>) -> Self {
        Self { name, expr, columns, oid: 0 }
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

/// `expr` with each identifier naming column `from` replaced by `to` (quoted when it must be).
/// Token by token, so strings, operators and spacing stay as written; a word before `(` is a
/// function's name.
fn rename_identifier(expr: &str, from: &str, to: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, expr).tokenize() else { return expr.to_string() };
    let called = |i: usize| tokens[i + 1..].iter().find(|t| !matches!(t, Token::Whitespace(_))).is_some_and(|t| *t == Token::LParen);
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            Token::Word(w) if column_name(w) == from && !called(i) => quoted(to),
            other => other.to_string(),
        })
        .collect()
}

/// The name an identifier token means: unquoted ones fold to lower case.
fn column_name(w: &Word) -> String {
    match w.quote_style {
        Some(_) => w.value.clone(),
        None => w.value.to_lowercase(),
    }
}

fn quoted(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_') && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_a_column_rewrites_its_references_only() {
        let mut c = CheckMeta::new("t_a_check".into(), "a >= 0 AND length('a') < \"A\" + ab".into(), vec!["a".into(), "A".into(), "ab".into()]);
        let mut f = CheckMeta::new("t_check".into(), "length(length) > 0".into(), vec!["length".into()]);
        f.rename_column("length", "len");
        assert_eq!(f.expr, "length(len) > 0");
        c.rename_column("a", "Total Sum");
        assert_eq!(c.expr, "\"Total Sum\" >= 0 AND length('a') < \"A\" + ab");
        assert_eq!(c.columns, vec!["Total Sum", "A", "ab"]);
        c.rename_column("A", "b");
        assert_eq!(c.expr, "\"Total Sum\" >= 0 AND length('a') < b + ab");
        c.rename_column("zz", "y");
        assert_eq!(c.expr, "\"Total Sum\" >= 0 AND length('a') < b + ab");
    }
}
