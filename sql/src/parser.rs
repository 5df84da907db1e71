//! Parsing SQL text with PostgreSQL's dialect.

use datafusion::sql::sqlparser::ast::{Expr, Statement, VacuumStatement};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::error::{Error, Result};

/// Nesting depth past which parsing fails instead of overflowing the stack.
const RECURSION_LIMIT: usize = 200;

/// Parses one or more `;`-separated statements. Empty text gives no statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Syntax(e.to_string()))?;
    let mut parser = Parser::new(&dialect).with_recursion_limit(RECURSION_LIMIT).with_tokens_with_locations(vector_operators(tokens));
    let mut statements = statements(&mut parser)
        .map_err(|e| match e {
            ParserError::RecursionLimitExceeded => Error::Syntax("statement is nested too deeply".into()),
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => Error::Syntax(m),
        })?;
    for s in &mut statements {
        unqualify_catalog_functions(s);
        crate::compat::rewrite(s);
        crate::vector_search::rewrite(s)?;
    }
    Ok(statements)
}

/// Parses a possibly qualified object name (`docs`, `public."Docs"`); nothing may follow it.
pub fn parse_object_name(text: &str) -> Result<datafusion::sql::sqlparser::ast::ObjectName> {
    let mut parser = Parser::new(&PostgreSqlDialect {}).try_with_sql(text).map_err(|e| Error::Syntax(e.to_string()))?;
    let name = parser.parse_object_name(false).map_err(|e| Error::InvalidArgument(format!("invalid name \"{text}\": {e}")))?;
    if parser.peek_token().token != Token::EOF {
        return Err(Error::InvalidArgument(format!("invalid name \"{text}\"")));
    }
    Ok(name)
}

/// sqlparser's statement loop, plus the PostgreSQL statements sqlparser does not know.
fn statements(parser: &mut Parser) -> std::result::Result<Vec<Statement>, ParserError> {
    let mut out = Vec::new();
    let mut expecting_delimiter = false;
    loop {
        while parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        if parser.peek_token().token == Token::EOF {
            return Ok(out);
        }
        if expecting_delimiter {
            return parser.expected("end of statement", parser.peek_token());
        }
        let statement = if parser.parse_keyword(Keyword::REINDEX) {
            reindex(parser)?
        } else if let Some(fetch) = fetch_or_move(parser) {
            fetch?
        } else if starts_set_constraints(parser) {
            set_constraints(parser)?
        } else if starts_comment_on_constraint(parser) {
            comment_on_constraint(parser)?
        } else {
            parser.parse_statement()?
        };
        out.push(statement);
        expecting_delimiter = true;
    }
}

/// The variable a `SET CONSTRAINTS` statement sets, which sqlparser does not know: its values
/// are the mode (`DEFERRED` or `IMMEDIATE`) then the constraints' names, none for `ALL`.
pub const SET_CONSTRAINTS: &str = "__quartz_set_constraints";

/// Whether the next words are `SET CONSTRAINTS` (sqlparser has no keyword for the second).
fn starts_set_constraints(parser: &Parser) -> bool {
    matches!(&parser.peek_token().token, Token::Word(w) if w.keyword == Keyword::SET)
        && matches!(&parser.peek_nth_token(1).token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("constraints"))
}

/// `SET CONSTRAINTS { ALL | name [, …] } { DEFERRED | IMMEDIATE }`, as a [`SET_CONSTRAINTS`] SET.
fn set_constraints(parser: &mut Parser) -> std::result::Result<Statement, ParserError> {
    use datafusion::sql::sqlparser::ast::{Ident, ObjectName, Set};
    parser.next_token();
    parser.next_token();
    let mut names = Vec::new();
    if !parser.parse_keyword(Keyword::ALL) {
        loop {
            names.push(Expr::CompoundIdentifier(parser.parse_object_name(false)?.0.into_iter().filter_map(|p| p.as_ident().cloned()).collect()));
            if !parser.consume_token(&Token::Comma) {
                break;
            }
        }
    }
    let mode = match parser.expect_one_of_keywords(&[Keyword::DEFERRED, Keyword::IMMEDIATE])? {
        Keyword::DEFERRED => "DEFERRED",
        _ => "IMMEDIATE",
    };
    let values = std::iter::once(Expr::Identifier(Ident::new(mode))).chain(names).collect();
    Ok(Statement::Set(Set::SingleAssignment { scope: None, hivevar: false, variable: ObjectName::from(vec![Ident::new(SET_CONSTRAINTS)]), values }))
}

/// The first part of the name a `COMMENT ON CONSTRAINT c ON t` carries as a `COMMENT ON TABLE`
/// of `__quartz_constraint.[schema.]t.c` (sqlparser has no constraint comments).
pub const CONSTRAINT_MARKER: &str = "__quartz_constraint";

fn starts_comment_on_constraint(parser: &Parser) -> bool {
    matches!(&parser.peek_token().token, Token::Word(w) if w.keyword == Keyword::COMMENT)
        && matches!(&parser.peek_nth_token(1).token, Token::Word(w) if w.keyword == Keyword::ON)
        && matches!(&parser.peek_nth_token(2).token, Token::Word(w) if w.keyword == Keyword::CONSTRAINT)
}

/// `COMMENT ON CONSTRAINT name ON table IS 'text' | NULL`, as a [`CONSTRAINT_MARKER`] comment.
fn comment_on_constraint(parser: &mut Parser) -> std::result::Result<Statement, ParserError> {
    use datafusion::sql::sqlparser::ast::{CommentObject, Ident, ObjectName, ObjectNamePart};
    for _ in 0..3 {
        parser.next_token();
    }
    let constraint = parser.parse_identifier()?;
    parser.expect_keyword_is(Keyword::ON)?;
    if parser.parse_keyword(Keyword::DOMAIN) {
        return parser.expected("a table (constraints of domains are not supported)", parser.peek_token());
    }
    let table = parser.parse_object_name(false)?;
    parser.expect_keyword_is(Keyword::IS)?;
    let comment = if parser.parse_keyword(Keyword::NULL) { None } else { Some(parser.parse_literal_string()?) };
    let parts = std::iter::once(ObjectNamePart::Identifier(Ident::new(CONSTRAINT_MARKER))).chain(table.0).chain(std::iter::once(ObjectNamePart::Identifier(constraint)));
    Ok(Statement::Comment { object_type: CommentObject::Table, object_name: ObjectName(parts.collect()), comment, if_exists: false })
}

/// What `FETCH … INTO` carries for a `MOVE`: sqlparser has no MOVE statement, and PostgreSQL's
/// SQL has no `FETCH … INTO`, so the field is free to mark it.
pub const MOVE_MARKER: &str = "__quartz_move";

/// `FETCH | MOVE [direction] [FROM | IN] name` with PostgreSQL's grammar: every direction
/// (`NEXT`, `PRIOR`, `FIRST`, `LAST`, `ABSOLUTE n`, `RELATIVE n`, `n`, `ALL`, `FORWARD [n |
/// ALL]`, `BACKWARD [n | ALL]`, none), signed counts, and `FROM`/`IN` optional. sqlparser reads
/// only part of it (no `FETCH name`, `FORWARD FROM`, negative counts) and no MOVE.
fn fetch_or_move(parser: &mut Parser) -> Option<std::result::Result<Statement, ParserError>> {
    use datafusion::sql::sqlparser::ast::{FetchDirection, FetchPosition, ObjectName, ValueWithSpan};
    let is_move = match &parser.peek_token().token {
        Token::Word(w) if w.keyword == Keyword::FETCH => false,
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("move") => true,
        _ => return None,
    };
    parser.next_token();
    let signed = |parser: &mut Parser| -> std::result::Result<ValueWithSpan, ParserError> {
        let minus = parser.consume_token(&Token::Minus);
        if !minus {
            let _ = parser.consume_token(&Token::Plus);
        }
        let t = parser.next_token();
        match t.token {
            Token::Number(n, long) => {
                Ok(datafusion::sql::sqlparser::ast::Value::Number(if minus { format!("-{n}") } else { n }, long).with_span(t.span))
            }
            _ => parser.expected("a row count", t),
        }
    };
    let starts_count = |parser: &Parser| matches!(parser.peek_token().token, Token::Number(..) | Token::Minus | Token::Plus);
    let result = (|| {
        let direction = if parser.parse_keyword(Keyword::NEXT) {
            FetchDirection::Next
        } else if parser.parse_keyword(Keyword::PRIOR) {
            FetchDirection::Prior
        } else if parser.parse_keyword(Keyword::FIRST) {
            FetchDirection::First
        } else if parser.parse_keyword(Keyword::LAST) {
            FetchDirection::Last
        } else if parser.parse_keyword(Keyword::ABSOLUTE) {
            FetchDirection::Absolute { limit: signed(parser)? }
        } else if parser.parse_keyword(Keyword::RELATIVE) {
            FetchDirection::Relative { limit: signed(parser)? }
        } else if parser.parse_keyword(Keyword::ALL) {
            FetchDirection::All
        } else if parser.parse_keyword(Keyword::FORWARD) {
            if parser.parse_keyword(Keyword::ALL) {
                FetchDirection::ForwardAll
            } else {
                FetchDirection::Forward { limit: if starts_count(parser) { Some(signed(parser)?) } else { None } }
            }
        } else if parser.parse_keyword(Keyword::BACKWARD) {
            if parser.parse_keyword(Keyword::ALL) {
                FetchDirection::BackwardAll
            } else {
                FetchDirection::Backward { limit: if starts_count(parser) { Some(signed(parser)?) } else { None } }
            }
        } else if starts_count(parser) {
            FetchDirection::Count { limit: signed(parser)? }
        } else {
            FetchDirection::Next
        };
        let position = if parser.parse_keyword(Keyword::IN) {
            FetchPosition::In
        } else {
            let _ = parser.parse_keyword(Keyword::FROM);
            FetchPosition::From
        };
        let name = parser.parse_identifier()?;
        let into = is_move.then(|| ObjectName::from(vec![datafusion::sql::sqlparser::ast::Ident::new(MOVE_MARKER)]));
        Ok(Statement::Fetch { name, direction, position, into })
    })();
    Some(result)
}

/// Whether a parsed `FETCH` is a `MOVE` (see [`MOVE_MARKER`]).
pub fn is_move(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Fetch { into: Some(n), .. } if n.to_string() == MOVE_MARKER)
}

/// `REINDEX [(options)] INDEX | TABLE [CONCURRENTLY] name`, read as Redshift's `VACUUM REINDEX
/// name` (the AST sqlparser has for it): index and table names share one namespace, so the
/// name alone says what to rebuild.
fn reindex(parser: &mut Parser) -> std::result::Result<Statement, ParserError> {
    if parser.consume_token(&Token::LParen) {
        while !parser.consume_token(&Token::RParen) {
            if parser.next_token().token == Token::EOF {
                return parser.expected(")", parser.peek_token());
            }
        }
    }
    if parser.parse_one_of_keywords(&[Keyword::INDEX, Keyword::TABLE]).is_none() {
        return parser.expected("INDEX or TABLE after REINDEX (REINDEX SCHEMA, DATABASE and SYSTEM are not supported)", parser.peek_token());
    }
    let _ = parser.parse_keyword(Keyword::CONCURRENTLY);
    let name = parser.parse_object_name(false)?;
    Ok(Statement::Vacuum(VacuumStatement {
        full: false,
        sort_only: false,
        delete_only: false,
        reindex: true,
        recluster: false,
        table_name: Some(name),
        threshold: None,
        boost: false,
    }))
}

/// `pg_catalog.version()` is `version()`: every function QuartzDB has lives in pg_catalog's
/// place (DataFusion has no schema-qualified functions).
fn unqualify_catalog_functions(stmt: &mut Statement) {
    use datafusion::sql::sqlparser::ast::visit_expressions_mut;
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Function(f) = e
            && f.name.0.len() == 2
            && f.name.0[0].as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case("pg_catalog"))
        {
            f.name.0.remove(0);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// pgvector's distance operators as PostgreSQL sees them: user-defined operators, all of one
/// precedence (above comparisons, below `+`). sqlparser reads `<=>` as MySQL's null-safe
/// equality and `<->` as a geometric operator, each with its own precedence, and splits `<+>`
/// into `<`, `+`, `>`; all three become one custom operator token here.
fn vector_operators(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut iter = tokens.into_iter().peekable();
    while let Some(t) = iter.next() {
        let custom = |s: &str, t: TokenWithSpan| TokenWithSpan::new(Token::CustomBinaryOperator(s.into()), t.span);
        match &t.token {
            Token::Spaceship => out.push(custom("<=>", t)),
            Token::TwoWayArrow => out.push(custom("<->", t)),
            Token::Lt if matches!(iter.peek().map(|n| &n.token), Some(Token::Plus)) => {
                let plus = iter.next().expect("peeked");
                if matches!(iter.peek().map(|n| &n.token), Some(Token::Gt)) {
                    let gt = iter.next().expect("peeked");
                    let span = t.span.union(&gt.span);
                    out.push(TokenWithSpan::new(Token::CustomBinaryOperator("<+>".into()), span));
                } else {
                    out.push(t);
                    out.push(plus);
                }
            }
            _ => out.push(t),
        }
    }
    out
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
    fn pgvector_operators_parse_as_one_precedence() {
        let show = |sql: &str| parse(sql).unwrap()[0].to_string();
        assert_eq!(show("SELECT a <+> b"), "SELECT a <+> b");
        assert_eq!(show("SELECT a <-> b < 1"), "SELECT a <-> b < 1");
        assert_eq!(show("SELECT a<=>b"), "SELECT a <=> b");
        assert_eq!(show("SELECT a < +b"), "SELECT a < +b");
        let Statement::Query(q) = &parse("SELECT x = a <=> b").unwrap()[0] else { panic!() };
        let datafusion::sql::sqlparser::ast::SetExpr::Select(s) = q.body.as_ref() else { panic!() };
        let datafusion::sql::sqlparser::ast::SelectItem::UnnamedExpr(Expr::BinaryOp { op, .. }) = &s.projection[0] else { panic!() };
        assert_eq!(op.to_string(), "=", "<=> binds tighter than =");
    }

    #[test]
    fn comments_on_constraints_are_marked_table_comments() {
        let stmt = parse("COMMENT ON CONSTRAINT \"Pk\" ON s.t IS 'the key'").unwrap().pop().unwrap();
        assert_eq!(stmt.to_string(), format!("COMMENT ON TABLE {CONSTRAINT_MARKER}.s.t.\"Pk\" IS 'the key'"));
        assert!(parse("COMMENT ON CONSTRAINT c ON t IS NULL; SELECT 1").is_ok());
        assert!(parse("COMMENT ON CONSTRAINT c ON DOMAIN d IS 'x'").is_err());
        assert!(parse("COMMENT ON CONSTRAINT c IS 'x'").is_err());
    }

    #[test]
    fn reindex_is_read_as_vacuum_reindex() {
        let fetch = parse("FETCH c; FETCH 2 FROM c").unwrap();
        assert_eq!(fetch.iter().map(|s| s.to_string()).collect::<Vec<_>>(), ["FETCH NEXT FROM c", "FETCH 2 FROM c"], "a bare FETCH is FETCH NEXT");
        let stmts = parse("REINDEX INDEX docs_idx; REINDEX (VERBOSE) TABLE CONCURRENTLY public.docs").unwrap();
        for (s, name) in stmts.iter().zip(["docs_idx", "public.docs"]) {
            let Statement::Vacuum(v) = s else { panic!("{s}") };
            assert!(v.reindex);
            assert_eq!(v.table_name.as_ref().unwrap().to_string(), name);
        }
        assert!(parse("REINDEX DATABASE quartz").is_err());
        assert!(parse("REINDEX INDEX a b").is_err());
    }

    #[test]
    fn catalog_qualified_functions_lose_their_schema() {
        assert_eq!(parse("SELECT pg_catalog.version()").unwrap()[0].to_string(), "SELECT version()");
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&sql).is_err());
    }
}
