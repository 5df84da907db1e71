//! `vector_search(table, column, query, k [, metric])` in FROM: the k rows of `table` nearest
//! `query`, with all their columns and a `distance` column.
//!
//! It is rewritten into the subquery a user would write,
//! `(SELECT *, col <op> query AS distance FROM table ORDER BY distance LIMIT k) AS vector_search`,
//! so it joins, nests in CTEs and takes `$n` parameters like any query, and the ANN rule gives
//! it the table's vector index as it would the hand-written form. `metric` is `l2` (`<->`, the
//! default), `cosine` (`<=>`), `ip` (`<#>`, negative inner product) or `l1` (`<+>`).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, Statement, TableAlias, TableFactor, Value, VisitMut, VisitorMut,
};

use crate::error::{Error, Result};

const NAME: &str = "vector_search";

/// Replaces every `vector_search(...)` table reference in the statement.
pub fn rewrite(stmt: &mut Statement) -> Result<()> {
    let mut visitor = Rewriter;
    match stmt.visit(&mut visitor) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct Rewriter;

impl VisitorMut for Rewriter {
    type Break = Error;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Error> {
        let TableFactor::Table { name, args: Some(args), alias, .. } = factor else { return ControlFlow::Continue(()) };
        if name.0.len() != 1 || !name.0[0].as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(NAME)) {
            return ControlFlow::Continue(());
        }
        match subquery(&args.args) {
            Ok(query) => {
                let alias = alias.take().unwrap_or_else(|| TableAlias { explicit: true, at: None, name: Ident::new(NAME), columns: vec![] });
                *factor = TableFactor::Derived { lateral: false, subquery: Box::new(query), alias: Some(alias), sample: None };
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }
}

fn subquery(args: &[FunctionArg]) -> Result<datafusion::sql::sqlparser::ast::Query> {
    let exprs: Vec<&Expr> = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
            _ => Err(Error::InvalidArgument(format!("{NAME} takes positional arguments only"))),
        })
        .collect::<Result<_>>()?;
    let (table, column, query, k, metric) = match exprs.as_slice() {
        [t, c, q, k] => (*t, *c, *q, *k, None),
        [t, c, q, k, m] => (*t, *c, *q, *k, Some(*m)),
        _ => {
            return Err(Error::UndefinedFunction(format!(
                "function {NAME} with {} arguments does not exist (it takes table, column, query, k [, metric])",
                exprs.len()
            )));
        }
    };
    let table = literal(table, "table")?;
    let column = literal(column, "column")?;
    let op = match metric.map(|m| literal(m, "metric")).transpose()?.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("l2") | Some("<->") | Some("euclidean") => "<->",
        Some("cosine") | Some("<=>") => "<=>",
        Some("ip") | Some("inner_product") | Some("dot") | Some("<#>") => "<#>",
        Some("l1") | Some("<+>") | Some("taxicab") => "<+>",
        Some(other) => return Err(Error::InvalidArgument(format!("unknown metric \"{other}\" (use l2, cosine, ip or l1)"))),
    };
    let k = match k {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<u64>().map_err(|_| Error::InvalidArgument(format!("{NAME}: k must be a positive integer, not {n}")))?,
            other => return Err(Error::InvalidArgument(format!("{NAME}: k must be a positive integer, not {other}"))),
        },
        _ => return Err(Error::InvalidArgument(format!("{NAME}: k must be an integer constant, not {k}"))),
    };
    let table = crate::parse_object_name(&table)?;
    let column = Ident::with_quote('"', column);
    let sql = format!("SELECT *, {column} {op} {query} AS distance FROM {table} ORDER BY distance LIMIT {k}");
    match crate::parse(&sql)?.pop() {
        Some(Statement::Query(q)) => Ok(*q),
        _ => Err(Error::Syntax(format!("{NAME}: could not build its query"))),
    }
}

/// A text argument: a string literal.
fn literal(e: &Expr, what: &str) -> Result<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(s.clone()),
            other => Err(Error::InvalidArgument(format!("{NAME}: the {what} must be a string, not {other}"))),
        },
        other => Err(Error::InvalidArgument(format!("{NAME}: the {what} must be a string constant, not {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> Result<String> {
        let mut stmt = crate::parse(sql)?.remove(0);
        rewrite(&mut stmt)?;
        Ok(stmt.to_string())
    }

    #[test]
    fn becomes_the_hand_written_query() {
        assert_eq!(
            rewritten("SELECT * FROM vector_search('docs', 'embedding', '[1,2]', 5)").unwrap(),
            "SELECT * FROM (SELECT *, \"embedding\" <-> '[1,2]' AS distance FROM docs ORDER BY distance LIMIT 5) AS vector_search"
        );
        assert_eq!(
            rewritten("SELECT v.id FROM vector_search('s.docs', 'e', $1, 3, 'cosine') AS v JOIN t ON t.id = v.id").unwrap(),
            "SELECT v.id FROM (SELECT *, \"e\" <=> $1 AS distance FROM s.docs ORDER BY distance LIMIT 3) AS v JOIN t ON t.id = v.id"
        );
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(matches!(rewritten("SELECT * FROM vector_search('docs', 'e')"), Err(Error::UndefinedFunction(_))));
        assert!(matches!(rewritten("SELECT * FROM vector_search('docs', 'e', '[1]', 'x')"), Err(Error::InvalidArgument(_))));
        assert!(matches!(rewritten("SELECT * FROM vector_search('docs', 'e', '[1]', 3, 'hamming')"), Err(Error::InvalidArgument(_))));
        assert!(matches!(rewritten("SELECT * FROM vector_search(docs, 'e', '[1]', 3)"), Err(Error::InvalidArgument(_))));
    }
}
