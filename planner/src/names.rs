//! Resolving SQL object names the way PostgreSQL does: unquoted identifiers fold to lower case,
//! quoted ones keep their case, and an unqualified name lives in the current schema.

use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Ident, ObjectName, Query, SelectItem, SetExpr};
use quartzdb_storage::QualifiedName;

use crate::error::{Error, Result};

/// Folds an identifier as PostgreSQL does.
pub fn ident(i: &Ident) -> String {
    if i.quote_style.is_some() { i.value.clone() } else { i.value.to_lowercase() }
}

/// Quotes an identifier only when PostgreSQL would need to (`items`, `"Mixed Case"`, `"time"`:
/// keywords other than unreserved ones are quoted).
pub fn quote_ident(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !crate::pg_catalog::keywords::needs_quotes(s);
    if plain { s.to_string() } else { format!("\"{}\"", s.replace('"', "\"\"")) }
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

/// The column name PostgreSQL gives an unaliased expression: the column's or function's name,
/// a cast's inner name or else its type's, else `?column?`.
pub fn column_name(e: &SqlExpr) -> String {
    figure(e).0
}

/// PostgreSQL's FigureColname: a name and how strongly the expression names itself (column and
/// function names beat a cast's type name, which beats nothing).
fn figure(e: &SqlExpr) -> (String, u8) {
    match e {
        SqlExpr::Identifier(i) => (ident(i), 2),
        SqlExpr::CompoundIdentifier(parts) => (parts.last().map(ident).unwrap_or_default(), 2),
        // `(expr).field`, which the parser made `get_field(expr, 'field')`, is named after the field.
        SqlExpr::Function(f) if f.name.to_string() == "get_field" => match get_field_name(f) {
            Some(field) => (field, 2),
            None => ("get_field".to_string(), 2),
        },
        SqlExpr::Function(f) => (f.name.0.last().and_then(|p| p.as_ident()).map(ident).unwrap_or_default(), 2),
        SqlExpr::Cast { expr, data_type, .. } => match figure(expr) {
            (name, 2) => (name, 2),
            inner => type_column_name(data_type).map(|t| (t, 1)).unwrap_or(inner),
        },
        SqlExpr::Nested(expr) => figure(expr),
        SqlExpr::Case { .. } => ("case".to_string(), 1),
        SqlExpr::Exists { .. } => ("exists".to_string(), 2),
        // A scalar subquery is named after its single column, as PostgreSQL names it.
        SqlExpr::Subquery(q) => subquery_column(q).unwrap_or_else(|| ("?column?".to_string(), 0)),
        _ => ("?column?".to_string(), 0),
    }
}

/// The name of a scalar subquery's column: its alias, else what its expression figures to.
fn subquery_column(q: &datafusion::sql::sqlparser::ast::Query) -> Option<(String, u8)> {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
    let SetExpr::Select(select) = q.body.as_ref() else { return None };
    match select.projection.first()? {
        SelectItem::ExprWithAlias { alias, .. } => Some((ident(alias), 2)),
        SelectItem::UnnamedExpr(e) => Some(figure(e)).filter(|(_, strength)| *strength > 0).map(|(name, _)| (name, 2)),
        _ => None,
    }
}

/// The field name of `get_field(expr, 'name')`.
fn get_field_name(f: &datafusion::sql::sqlparser::ast::Function) -> Option<String> {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments, Value};
    let FunctionArguments::List(list) = &f.args else { return None };
    match list.args.get(1)? {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(SqlExpr::Value(v))) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The internal name PostgreSQL gives a type (`int4` for `integer`, `vector` for `vector(3)`).
fn type_column_name(t: &datafusion::sql::sqlparser::ast::DataType) -> Option<String> {
    let declared = match crate::types::column_type(t) {
        Ok(c) => c.pg_name,
        Err(_) => t.to_string(),
    };
    let types = crate::pg_catalog::types::types();
    let oid = crate::pg_catalog::types::resolve(types, &declared)?;
    types.iter().find(|r| r.oid == oid).map(|r| r.name.clone())
}

/// Types bare integer literals in a query's select list as PostgreSQL does: `integer` when the
/// value fits, else `bigint` (DataFusion makes every integer literal `bigint`). Only whole select
/// items are touched, so positional `ORDER BY 1`, LIMIT and arithmetic keep DataFusion's typing.
pub fn type_select_literals(query: &mut Query) {
    use datafusion::sql::sqlparser::ast::{DataType, Value};
    let mut body = query.body.as_mut();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    let SetExpr::Select(select) = body else { return };
    for item in select.projection.iter_mut() {
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else { continue };
        let fits = matches!(e, SqlExpr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.parse::<i32>().is_ok()));
        if fits {
            *e = SqlExpr::Cast {
                kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
                expr: Box::new(e.clone()),
                data_type: DataType::Integer(None),
                array: false,
                format: None,
            };
        }
    }
}

/// Ends the part of an output column's name that DataFusion sees but clients do not: the wire
/// layer sends only what comes before it ([`client_name`]).
pub const HIDDEN_SUFFIX: char = '\u{1f}';

/// An output column's name as clients see it.
pub fn client_name(name: &str) -> &str {
    name.split(HIDDEN_SUFFIX).next().unwrap_or(name)
}

/// [`name_output_columns`] for a query and every query inside it (CTEs, derived tables,
/// subqueries), whose column names the outer query reads: `WITH w AS (SELECT count(1) …)
/// SELECT … ORDER BY count` (pgcli's casing query).
pub fn name_all_output_columns(query: &mut Query) {
    use datafusion::sql::sqlparser::ast::{VisitMut, VisitorMut};
    /// Counts how deep the visit is, so the outermost query is named as such.
    struct Namer(usize);
    impl VisitorMut for Namer {
        type Break = ();
        fn pre_visit_query(&mut self, _: &mut Query) -> std::ops::ControlFlow<()> {
            self.0 += 1;
            std::ops::ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, query: &mut Query) -> std::ops::ControlFlow<()> {
            self.0 -= 1;
            name_columns(query, self.0 == 0);
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Namer(0));
}

/// Names a query's result columns as PostgreSQL does (`count`, `sum`, `?column?`) rather than
/// as DataFusion does (`count(*)`, `sum(t.x) ORDER BY …`).
///
/// PostgreSQL allows repeated names (`SELECT a, a::text`, `SELECT *, id`); DataFusion does not.
/// So a name's second and later uses get a hidden suffix, and next to a `*` (whose names are
/// not known here) so does every column not named by an explicit alias.
pub fn name_output_columns(query: &mut Query) {
    name_columns(query, true);
}

/// Names `query`'s columns. Next to a `*`, the outermost query hides every name but explicit
/// aliases, an inner one those of computed columns.
fn name_columns(query: &mut Query, outermost: bool) {
    let mut body = query.body.as_mut();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_mut();
    }
    let SetExpr::Select(select) = body else { return };
    let has_wildcard = select.projection.iter().any(|i| matches!(i, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)));
    // Next to a `*` in an inner query, a computed column's name could repeat one of the `*`'s
    // columns (`SELECT t.*, t.id::text`), which DataFusion refuses: it gets a hidden suffix.
    // Plain columns keep their names, which the query around reads (Django reads `attname`
    // from a derived table selecting `idx.*, attr.attname`).
    if has_wildcard && !outermost {
        for (position, item) in select.projection.iter_mut().enumerate() {
            if let SelectItem::UnnamedExpr(e) = item
                && !matches!(e, SqlExpr::Identifier(_) | SqlExpr::CompoundIdentifier(_))
            {
                let alias = format!("{}{HIDDEN_SUFFIX}{}", column_name(e), position + 1);
                *item = SelectItem::ExprWithAlias { expr: e.clone(), alias: Ident::with_quote('"', alias) };
            }
        }
        return;
    }
    let wildcard = has_wildcard;
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (position, item) in select.projection.iter_mut().enumerate() {
        let (name, aliased) = match item {
            SelectItem::UnnamedExpr(e) => (column_name(e), false),
            SelectItem::ExprWithAlias { alias, .. } => (ident(alias), true),
            _ => continue,
        };
        let n = seen.entry(name.clone()).or_insert(0);
        *n += 1;
        let hidden = *n > 1 || (wildcard && !aliased);
        match item {
            SelectItem::UnnamedExpr(e) if hidden || !matches!(e, SqlExpr::Identifier(_) | SqlExpr::CompoundIdentifier(_)) => {
                let alias = if hidden { format!("{name}{HIDDEN_SUFFIX}{}", position + 1) } else { name };
                *item = SelectItem::ExprWithAlias { expr: e.clone(), alias: Ident::with_quote('"', alias) };
            }
            SelectItem::ExprWithAlias { alias, .. } if hidden => *alias = Ident::with_quote('"', format!("{name}{HIDDEN_SUFFIX}{}", position + 1)),
            _ => {}
        }
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

#[cfg(test)]
mod output_name_tests {
    use super::*;

    fn named(sql: &str) -> String {
        let mut stmts = quartzdb_sql::parse(sql).unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = &mut stmts[0] else { panic!() };
        name_output_columns(q);
        q.to_string()
    }

    #[test]
    fn names_columns_like_postgres() {
        assert_eq!(named("SELECT count(*), x, t.y FROM t"), "SELECT count(*) AS \"count\", x, t.y FROM t");
        assert_eq!(named("SELECT 1 + 1"), "SELECT 1 + 1 AS \"?column?\"");
        assert_eq!(named("SELECT 1, 2"), "SELECT 1 AS \"?column?\", 2 AS \"?column?\u{1f}2\"", "repeats get a hidden suffix");
        assert_eq!(named("SELECT a, a, 1 AS a FROM t"), "SELECT a, a AS \"a\u{1f}2\", 1 AS \"a\u{1f}3\" FROM t");
        assert_eq!(named("SELECT *, id, upper(n) AS u FROM t"), "SELECT *, id AS \"id\u{1f}2\", upper(n) AS u FROM t");
        assert_eq!(client_name("a\u{1f}2"), "a");
        assert_eq!(named("SELECT x::text FROM t"), "SELECT x::TEXT AS \"x\" FROM t");
        let mut stmts = quartzdb_sql::parse("WITH w AS (SELECT count(1) FROM t) SELECT count FROM w").unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = &mut stmts[0] else { panic!() };
        name_all_output_columns(q);
        assert_eq!(q.to_string(), "WITH w AS (SELECT count(1) AS \"count\" FROM t) SELECT count FROM w");
        let mut stmts = quartzdb_sql::parse("SELECT attname FROM (SELECT i.*, a.attname, upper(x) FROM i, a) s").unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = &mut stmts[0] else { panic!() };
        name_all_output_columns(q);
        assert_eq!(q.to_string(), "SELECT attname FROM (SELECT i.*, a.attname, upper(x) AS \"upper\u{1f}3\" FROM i, a) s");
        let mut stmts = quartzdb_sql::parse("SELECT 1, 3000000000, 1.5, a + 1 FROM t ORDER BY 1 LIMIT 2").unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = &mut stmts[0] else { panic!() };
        type_select_literals(q);
        assert_eq!(q.to_string(), "SELECT CAST(1 AS INTEGER), 3000000000, 1.5, a + 1 FROM t ORDER BY 1 LIMIT 2");
        // Named before typed, as the session does: the literal's column is `?column?`.
        let mut stmts = quartzdb_sql::parse("SELECT 1").unwrap();
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = &mut stmts[0] else { panic!() };
        name_output_columns(q);
        type_select_literals(q);
        assert_eq!(q.to_string(), "SELECT CAST(1 AS INTEGER) AS \"?column?\"");
    }
}
