//! Parsing SQL text with PostgreSQL's dialect.

use datafusion::sql::sqlparser::ast::{Expr, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

use crate::error::{Error, Result};

/// Nesting depth past which parsing fails instead of overflowing the stack.
const RECURSION_LIMIT: usize = 200;

/// Parses one or more `;`-separated statements. Empty text gives no statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| match e {
            ParserError::RecursionLimitExceeded => Error::Syntax("statement is nested too deeply".into()),
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => Error::Syntax(m),
        })
}

/// Parses a single expression, e.g. a stored column default.
pub fn parse_expr(sql: &str) -> Result<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Error::Syntax(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_several_statements() {
        let stmts = parse("SELECT 1; SELECT 2;").unwrap();
        assert_eq!(stmts.len(), 2);
    }

    #[test]
    fn empty_text_has_no_statements() {
        assert!(parse("  ").unwrap().is_empty());
        assert!(parse(";").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(matches!(parse("SELEC 1"), Err(Error::Syntax(_))));
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&sql).is_err());
    }
}
