//! SQL-level prepared statements: `PREPARE name [(types)] AS …`, `EXECUTE name (args)`,
//! `DEALLOCATE [PREPARE] name | ALL`.
//!
//! EXECUTE substitutes its arguments for `$n` (cast to the declared type, if one was given) and
//! runs the statement like any other, so every statement kind and every type works the same way
//! as when written out. Statements prepared with the protocol's Parse live in the wire layer;
//! it answers DEALLOCATE of those names itself.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, CastKind, Expr, Statement, Value, visit_expressions_mut};

use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct PreparedStatements {
    statements: HashMap<String, Prepared>,
}

#[derive(Debug, Clone)]
struct Prepared {
    statement: Statement,
    types: Vec<ast::DataType>,
}

impl PreparedStatements {
    /// `PREPARE`: 42P05 when the name is taken.
    pub fn prepare(&mut self, name: &str, types: Vec<ast::DataType>, statement: Statement) -> Result<()> {
        if self.statements.contains_key(name) {
            return Err(Error::DuplicatePrepared(name.to_string()));
        }
        self.statements.insert(name.to_string(), Prepared { statement, types });
        Ok(())
    }

    /// The statement `EXECUTE name (args)` runs: the prepared one with the arguments in place.
    pub fn bind(&self, name: &str, args: &[Expr]) -> Result<Statement> {
        let prepared = self.statements.get(name).ok_or_else(|| Error::UnknownPrepared(name.to_string()))?;
        let expected = prepared.types.len().max(highest_parameter(&prepared.statement));
        if args.len() != expected {
            return Err(Error::Syntax(format!("wrong number of parameters for prepared statement \"{name}\"")));
        }
        let mut stmt = prepared.statement.clone();
        let _ = visit_expressions_mut(&mut stmt, |e| {
            if let Some(n) = parameter_number(e)
                && let Some(arg) = args.get(n - 1)
            {
                *e = match prepared.types.get(n - 1) {
                    Some(t) => Expr::Cast { kind: CastKind::Cast, expr: Box::new(arg.clone()), data_type: t.clone(), array: false, format: None },
                    None => Expr::Nested(Box::new(arg.clone())),
                };
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(stmt)
    }

    /// `DEALLOCATE name`, or every statement for `ALL`; 26000 for an unknown name.
    pub fn deallocate(&mut self, name: &str) -> Result<()> {
        if name.eq_ignore_ascii_case("all") {
            self.statements.clear();
            return Ok(());
        }
        self.statements.remove(name).map(|_| ()).ok_or_else(|| Error::UnknownPrepared(name.to_string()))
    }

    pub fn clear(&mut self) {
        self.statements.clear();
    }
}

fn parameter_number(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p.strip_prefix('$')?.parse().ok().filter(|n| *n > 0),
            _ => None,
        },
        _ => None,
    }
}

fn highest_parameter(stmt: &Statement) -> usize {
    let mut stmt = stmt.clone();
    let mut highest = 0;
    let _ = visit_expressions_mut(&mut stmt, |e| {
        highest = highest.max(parameter_number(e).unwrap_or(0));
        ControlFlow::<()>::Continue(())
    });
    highest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        quartzdb_sql::parse(sql).unwrap().remove(0)
    }

    #[test]
    fn execute_puts_the_arguments_in_place() {
        let mut p = PreparedStatements::default();
        let Statement::Prepare { name, data_types, statement } = parse("PREPARE q (int, text) AS SELECT $1 + 1, $2") else { panic!() };
        p.prepare(&name.value, data_types, *statement).unwrap();
        let Statement::Execute { parameters, .. } = parse("EXECUTE q (41, 'x' || 'y')") else { panic!() };
        assert_eq!(p.bind("q", &parameters).unwrap().to_string(), "SELECT CAST(41 AS INT) + 1, CAST('x' || 'y' AS TEXT)");
        assert!(matches!(p.bind("q", &parameters[..1]), Err(Error::Syntax(_))));
        assert!(matches!(p.prepare("q", vec![], parse("SELECT 1")), Err(Error::DuplicatePrepared(_))));
        p.deallocate("q").unwrap();
        assert!(matches!(p.deallocate("q"), Err(Error::UnknownPrepared(_))));
        assert!(matches!(p.bind("q", &[]), Err(Error::UnknownPrepared(_))));
    }
}
