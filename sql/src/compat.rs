//! Spellings PostgreSQL clients use in their catalog queries that DataFusion does not plan,
//! rewritten to what it does:
//! - `a OPERATOR(pg_catalog.~) b` (psql's `\d name`) is `a ~ b`;
//! - `COLLATE pg_catalog.default` / `"C"` / `"POSIX"` is dropped, since QuartzDB compares text
//!   bytewise, as those collations do (others are left for the planner to refuse);
//! - `x::pg_catalog.text` is `x::text` (every built-in type lives in pg_catalog);
//! - `ARRAY(SELECT e FROM … [ORDER BY o])` is `(SELECT array_agg(e [ORDER BY o]) FROM …)`,
//!   which differs only for no rows: NULL where PostgreSQL gives `{}`;
//! - `INTERVAL '1 day 02:00:00'` is `CAST('1 day 02:00:00' AS INTERVAL)`, so that the planner
//!   reads it as PostgreSQL does (DataFusion's reader takes neither that nor `-01:30:00`);
//! - numeric literals with an exponent (`1e10`) are spelled out;
//! - `ts AT TIME ZONE z` is `timezone(z, ts)` (planner: a conversion, not a relabelling);
//! - `FROM string_to_array(t, ',') s`, a function of one value in FROM, is `FROM (SELECT
//!   string_to_array(t, ',') AS s) s`;
//! - `FROM generate_series(1, 3) i` and `FROM unnest(a) x` name the column too (`i`, `x`), as a
//!   table alias does in PostgreSQL for a function returning one column: `… AS i(i)`;
//!   unaliased, `generate_series`'s column is `generate_series`;
//! - `SELECT generate_series(…)` is `SELECT unnest(generate_series(…)) AS generate_series` (a
//!   row per value); `generate_series(d1::date, d2::date, '1 day')` takes the dates as
//!   timestamptz and the step as an interval, as PostgreSQL does;
//!   `FROM pg_catalog.unnest(…)` is `FROM unnest(…)`;
//! - `generate_subscripts(a, d)`, `information_schema._pg_expandarray(a)` and
//!   `regexp_split_to_table(t, p)` / `string_to_table(t, d)` are `unnest` of an array of the subscripts / of `(x, n)`
//!   pairs / of the pieces; `(expr).field` is `get_field(expr, 'field')`;
//! - `array_upper(a, 1)` is `nullif(array_length(a, 1), 0)` (QuartzDB's arrays are 1-D from 1),
//!   and `array_lower(a, d)` is 1 where `a` has dimension `d`;
//! - `x IN (SELECT pg_partition_ancestors(r) UNION ALL VALUES (r::regclass))` (psql's "Referenced
//!   by") is `x = r::regclass`: QuartzDB has no partitions, so a table's only ancestor is itself;
//! - `EXISTS (SELECT … FROM … WHERE …)` in a SELECT list (psql's `\d index`), which DataFusion
//!   decorrelates only in WHERE, is `((SELECT count(*) FROM … WHERE …) > 0)`, which it
//!   decorrelates anywhere.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, ArrayElemTypeDef, BinaryOperator, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, GroupByExpr, FunctionArguments, Ident, OrderByKind, Query, SelectItem, SetExpr, Statement, TableAlias, TableAliasColumnDef,
    TableFactor, VisitMut, VisitorMut, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

pub fn rewrite(stmt: &mut Statement) {
    name_unnested_subqueries(stmt);
    let _ = stmt.visit(&mut SetReturningSelectItems);
    let _ = stmt.visit(&mut ScalarFunctionAliases);
    let _ = stmt.visit(&mut ExistsInSelectLists);
    let _ = visit_expressions_mut(stmt, |e| {
        match e {
            Expr::Cast { data_type, .. } => unqualify_type(data_type),
            // `array_upper(a, 1)` of a one-dimensional array (QuartzDB's are; their lower bound is
            // 1) is its length, NULL when empty; JDBC's type lookup asks it of current_schemas.
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("array_upper") || f.name.to_string().eq_ignore_ascii_case("pg_catalog.array_upper") => {
                if let Ok(len) = crate::parser::parse_expr(&format!("nullif(CAST(array_length({}) AS bigint), 0)", f.args.to_string().trim_start_matches('(').trim_end_matches(')'))) {
                    *e = len;
                }
            }
            // `user` (a reserved word, never a column unless quoted) is `current_user`.
            Expr::Function(f) if matches!(f.args, FunctionArguments::None) && f.name.0.len() == 1 && f.name.to_string().eq_ignore_ascii_case("user") => {
                if let Ok(call) = crate::parser::parse_expr("current_user") {
                    *e = call;
                }
            }
            // `1e10`, `2.5E-3`: numeric literals written with an exponent, which DataFusion's
            // decimal reader refuses, spelled out.
            Expr::Value(v) if matches!(&v.value, datafusion::sql::sqlparser::ast::Value::Number(n, _) if n.contains(['e', 'E'])) => {
                let datafusion::sql::sqlparser::ast::Value::Number(n, _) = &v.value else { unreachable!() };
                if let Some(Ok(spelled)) = exponent_literal(n).map(|s| crate::parser::parse_expr(&s)) {
                    *e = spelled;
                }
            }
            // `ts AT TIME ZONE z` is `timezone(z, ts)`, which converts (DataFusion's relabels).
            Expr::AtTimeZone { timestamp, time_zone } => {
                if let Ok(call) = crate::parser::parse_expr(&format!("timezone({time_zone}, {timestamp})")) {
                    *e = call;
                }
            }
            // `generate_series(date, date, '1 day')`, as PostgreSQL resolves the call.
            Expr::Function(f) if unqualified_name(&f.name.to_string()) == "generate_series" => {
                if let FunctionArguments::List(list) = &mut f.args
                    && let Some(mut args) = positional(&list.args)
                    && series_arguments(&mut args)
                {
                    list.args = args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect();
                }
            }
            // `array_lower(a, d)`: 1 for a dimension a one-dimensional array has, else NULL.
            Expr::Function(f) if unqualified_name(&f.name.to_string()) == "array_lower" => {
                if let Some([array, dim]) = function_args(&f.args).as_deref()
                    && let Ok(lower) = crate::parser::parse_expr(&format!("CAST(CASE WHEN array_length({array}, {dim}) > 0 THEN 1 END AS bigint)"))
                {
                    *e = lower;
                }
            }
            // Set-returning functions of arrays as `unnest` of an array, which DataFusion runs in
            // a SELECT list (several side by side are zipped, as PostgreSQL does): SQLAlchemy's
            // index reflection pairs `unnest(indkey)` with `generate_subscripts(indkey, 1)`, JDBC's
            // key metadata reads `(information_schema._pg_expandarray(indkey)).n`.
            Expr::Function(f) if matches!(unqualified_name(&f.name.to_string()).as_str(), "generate_subscripts" | "_pg_expandarray" | "regexp_split_to_table" | "string_to_table") => {
                let args = function_args(&f.args);
                let sql = match (unqualified_name(&f.name.to_string()).as_str(), args.as_deref()) {
                    ("regexp_split_to_table", Some(args)) => format!("unnest(regexp_split_to_array({}))", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")),
                    ("string_to_table", Some(args)) => format!("unnest(string_to_array({}))", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")),
                    ("generate_subscripts", Some([array, dim])) => format!("unnest(generate_series(1, CAST(array_length({array}, {dim}) AS bigint)))"),
                    ("_pg_expandarray", Some([array])) => format!("unnest({EXPAND_ARRAY}({array}))"),
                    _ => return ControlFlow::Continue(()),
                };
                if let Ok(call) = crate::parser::parse_expr(&sql) {
                    *e = call;
                }
            }
            // `(expr).field`, a field of a composite value, is `get_field(expr, 'field')`
            // (DataFusion reads dots only after column names).
            Expr::CompoundFieldAccess { root, access_chain } if matches!(root.as_ref(), Expr::Nested(_)) && access_chain.iter().all(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_)))) => {
                let mut sql = root.to_string();
                for access in access_chain.iter() {
                    if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                        let name = if field.quote_style.is_some() { field.value.clone() } else { field.value.to_lowercase() };
                        sql = format!("get_field({sql}, '{}')", name.replace('\'', "''"));
                    }
                }
                if let Ok(call) = crate::parser::parse_expr(&sql) {
                    *e = call;
                }
            }
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("array") => {
                if let FunctionArguments::Subquery(q) = &f.args {
                    if let Some(t) = array_of_unnest(q) {
                        *e = t;
                    } else if let Some(q) = array_subquery(q) {
                        *e = Expr::Subquery(Box::new(q));
                    }
                }
            }
            Expr::BinaryOp { op: op @ BinaryOperator::PGCustomBinaryOperator(_), .. } => {
                if let Some(builtin) = builtin_operator(op) {
                    *op = builtin;
                }
            }
            Expr::InSubquery { expr, subquery, negated: false } if partition_ancestors(subquery).is_some() => {
                let relation = partition_ancestors(subquery).expect("checked");
                *e = Expr::BinaryOp { left: expr.clone(), op: BinaryOperator::Eq, right: Box::new(relation) };
            }
            Expr::Collate { expr, collation } if is_bytewise(&collation.to_string()) => {
                *e = expr.as_ref().clone();
            }
            Expr::Interval(i) if i.leading_field.is_none() && i.last_field.is_none() && matches!(i.value.as_ref(), Expr::Value(_)) => {
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: i.value.clone(),
                    data_type: DataType::Interval { fields: None, precision: None },
                    array: false,
                    format: None,
                };
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `r::regclass` of `SELECT pg_partition_ancestors(r) UNION ALL VALUES (r::regclass)`.
fn partition_ancestors(q: &Query) -> Option<Expr> {
    let SetExpr::SetOperation { left, right, .. } = q.body.as_ref() else { return None };
    let SetExpr::Select(select) = left.as_ref() else { return None };
    let [SelectItem::UnnamedExpr(Expr::Function(f))] = select.projection.as_slice() else { return None };
    if unqualified_name(&f.name.to_string()) != "pg_partition_ancestors" || !select.from.is_empty() {
        return None;
    }
    let SetExpr::Values(values) = right.as_ref() else { return None };
    match values.rows.as_slice() {
        [row] => match row.as_slice() {
            [relation] => Some(relation.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The function `information_schema._pg_expandarray(a)` is planned with: the elements of `a`
/// and their positions, as a list of `(x, n)` structs (the planner defines it).
pub const EXPAND_ARRAY: &str = "quartz_expandarray";

/// A function name without its schema (`pg_catalog.`, `information_schema.`), lowercased.
fn unqualified_name(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.rsplit_once('.') {
        Some((schema, base)) if matches!(schema, "pg_catalog" | "information_schema") => base.to_string(),
        _ => name,
    }
}

/// The arguments of a call as SQL text, when they are plain positional expressions.
fn function_args(args: &FunctionArguments) -> Option<Vec<String>> {
    let FunctionArguments::List(list) = args else { return None };
    if !list.clauses.is_empty() || list.duplicate_treatment.is_some() {
        return None;
    }
    list.args
        .iter()
        .map(|a| match a {
            datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(e)) => Some(e.to_string()),
            _ => None,
        })
        .collect()
}

/// The arguments of a call when they are all positional expressions.
fn positional(args: &[datafusion::sql::sqlparser::ast::FunctionArg]) -> Option<Vec<Expr>> {
    args.iter()
        .map(|a| match a {
            datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Whether an expression reads a column (or a subquery's).
fn reads_columns(e: &Expr) -> bool {
    let mut found = false;
    let _ = datafusion::sql::sqlparser::ast::visit_expressions(e, |e| {
        found |= matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Subquery(_));
        ControlFlow::<()>::Continue(())
    });
    found
}

/// Whether an expression is written as an interval (a series of timestamps steps by one).
fn is_interval(e: &Expr) -> bool {
    match e {
        Expr::Interval(_) | Expr::Cast { data_type: DataType::Interval { .. }, .. } => true,
        Expr::Nested(e) => is_interval(e),
        _ => false,
    }
}

/// The arguments of `generate_series(start, stop, step)` as PostgreSQL resolves them where
/// DataFusion would not: a quoted step is an interval, and dates are timestamptz (so is the
/// result, as in PostgreSQL). Whether any changed.
fn series_arguments(args: &mut [Expr]) -> bool {
    let [start, stop, step] = args else { return false };
    let mut changed = false;
    if matches!(step, Expr::Value(v) if matches!(v.value, datafusion::sql::sqlparser::ast::Value::SingleQuotedString(_))) {
        *step = Expr::Cast { kind: CastKind::Cast, expr: Box::new(step.clone()), data_type: DataType::Interval { fields: None, precision: None }, array: false, format: None };
        changed = true;
    }
    for bound in [start, stop] {
        if matches!(bound, Expr::Cast { data_type: DataType::Date, .. }) {
            *bound = Expr::Cast { kind: CastKind::Cast, expr: Box::new(bound.clone()), data_type: DataType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::WithTimeZone), array: false, format: None };
            changed = true;
        }
    }
    changed
}

/// A numeric literal with an exponent as SQL DataFusion reads: the digits spelled out (a whole
/// number as a `numeric` cast, so it stays numeric as in PostgreSQL), or, past the 38 digits a
/// numeric holds here, a `double precision` when one holds it (PostgreSQL's numeric would keep
/// it exactly); `None` (DataFusion's error) for what neither holds.
fn exponent_literal(text: &str) -> Option<String> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let exponent: i64 = exponent.parse().ok().filter(|e: &i64| e.unsigned_abs() <= 1000)?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !(whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) && whole.len() + fraction.len() > 0) {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let point = whole.len() as i64 + exponent;
    let (int_part, frac_part) = if point <= 0 {
        (String::new(), format!("{}{digits}", "0".repeat((-point) as usize)))
    } else if point as usize >= digits.len() {
        (format!("{digits}{}", "0".repeat(point as usize - digits.len())), String::new())
    } else {
        (digits[..point as usize].to_string(), digits[point as usize..].to_string())
    };
    let int_part = int_part.trim_start_matches('0');
    if int_part.len() + frac_part.len() > 38 {
        let value: f64 = text.parse().ok()?;
        let zero = digits.bytes().all(|b| b == b'0');
        return (value.is_finite() && (value != 0.0 || zero)).then(|| format!("CAST('{text}' AS DOUBLE PRECISION)"));
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    Some(match frac_part.is_empty() {
        // An unconstrained numeric keeps 28 integer digits (numeric(38,10)); more fit as a whole number.
        true if int_part.len() > 28 => format!("CAST({int_part} AS NUMERIC(38,0))"),
        true => format!("CAST({int_part} AS NUMERIC)"),
        false => format!("{int_part}.{frac_part}"),
    })
}

/// Functions of one value that catalog queries put in FROM.
const SCALAR_IN_FROM: [&str; 5] = ["string_to_array", "current_schemas", "parse_ident", "current_setting", "current_schema"];

/// Gives the one column of a scalar set-returning function its table alias as name.
struct ScalarFunctionAliases;

impl VisitorMut for ScalarFunctionAliases {
    type Break = ();

    fn post_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, args: Some(_), .. } = table
            && name.0.len() == 2
            && name.0[0].to_string().eq_ignore_ascii_case("pg_catalog")
        {
            name.0.remove(0);
        }
        // A function returning one value in FROM is a relation of one row and one column named
        // by its alias (Grafana: `FROM string_to_array(current_setting('search_path'), ',') s`).
        if let TableFactor::Table { name, args: Some(args), alias, with_ordinality: false, .. } = table
            && SCALAR_IN_FROM.contains(&unqualified_name(&name.to_string()).as_str())
            && let Some(values) = positional(&args.args)
        {
            let function = unqualified_name(&name.to_string());
            let alias = alias.take().unwrap_or_else(|| TableAlias { explicit: false, name: Ident::new(&function), columns: vec![], at: None });
            let column = alias.columns.first().map_or(alias.name.clone(), |c| c.name.clone());
            let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            if let Ok(Some(Statement::Query(subquery))) = crate::parser::parse(&format!("SELECT {function}({}) AS {column}", values.join(", "))).map(|mut s| s.pop()) {
                *table = TableFactor::Derived { lateral: false, subquery, alias: Some(TableAlias { columns: vec![], ..alias }), sample: None };
                return ControlFlow::Continue(());
            }
        }
        // `FROM regexp_split_to_table(t, p)` / `string_to_table(t, d)` is the UNNEST of the pieces.
        if let TableFactor::Table { name, args: Some(args), alias, with_ordinality, .. } = table
            && let function = unqualified_name(&name.to_string())
            && let Some(array) = match function.as_str() {
                "regexp_split_to_table" => Some("regexp_split_to_array"),
                "string_to_table" => Some("string_to_array"),
                _ => None,
            }
            && let Some(values) = positional(&args.args)
            && let Ok(pieces) = crate::parser::parse_expr(&format!("{array}({})", values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")))
        {
            let alias = alias.take().or_else(|| Some(TableAlias { explicit: false, name: Ident::new(&function), columns: vec![], at: None }));
            *table = TableFactor::UNNEST { alias, array_exprs: vec![pieces], with_offset: false, with_offset_alias: None, with_ordinality: *with_ordinality };
        }
        // The parser reads `unnest(…)` as UNNEST, but not once it was schema-qualified.
        if let TableFactor::Table { name, args: Some(args), alias, with_ordinality, .. } = table
            && name.to_string().eq_ignore_ascii_case("unnest")
        {
            if let Some(array_exprs) = positional(&args.args) {
                *table = TableFactor::UNNEST { alias: alias.take(), array_exprs, with_offset: false, with_offset_alias: None, with_ordinality: *with_ordinality };
            }
        }
        // `LATERAL unnest(…)`: every FROM item may read the ones before it in QuartzDB.
        if let TableFactor::Function { name, args, alias, with_ordinality, .. } = table
            && unqualified_name(&name.to_string()) == "unnest"
        {
            if let Some(array_exprs) = positional(args) {
                *table = TableFactor::UNNEST { alias: alias.take(), array_exprs, with_offset: false, with_offset_alias: None, with_ordinality: *with_ordinality };
            }
        }
        // `FROM generate_series(date, date, '1 day')`, as in a SELECT list.
        if let TableFactor::Table { name, args: Some(args), .. } = table
            && unqualified_name(&name.to_string()) == "generate_series"
            && let Some(mut values) = positional(&args.args)
            && series_arguments(&mut values)
        {
            args.args = values.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect();
        }
        // `FROM t, generate_series(1, t.n) g` (LATERAL or not), a series of timestamps (its
        // step an interval), or one WITH ORDINALITY: the UNNEST of the series, which runs per
        // outer row as `LATERAL unnest(…)` does, takes timestamptz and numbers its rows. Else
        // it stays the table function, which streams (`generate_series(1, 100000000)`).
        let series = match table {
            TableFactor::Table { name, args: Some(args), alias, with_ordinality, .. } => Some((name, &args.args, alias, *with_ordinality)),
            TableFactor::Function { name, args, alias, with_ordinality, .. } => Some((name, &*args, alias, *with_ordinality)),
            _ => None,
        };
        if let Some((name, args, alias, with_ordinality)) = series
            && unqualified_name(&name.to_string()) == "generate_series"
            && let Some(values) = positional(args)
            && (with_ordinality || values.iter().any(reads_columns) || values.get(2).is_some_and(is_interval))
            && let Ok(array) = crate::parser::parse_expr(&format!("generate_series({})", values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")))
        {
            let alias = alias.take().or_else(|| Some(TableAlias { explicit: false, name: Ident::new("generate_series"), columns: vec![], at: None }));
            *table = TableFactor::UNNEST { alias, array_exprs: vec![array], with_offset: false, with_offset_alias: None, with_ordinality };
        }
        with_ordinality_as_last_array(table);
        let alias = match table {
            TableFactor::Table { name, args: Some(_), alias: Some(alias), .. }
                if matches!(name.to_string().to_ascii_lowercase().as_str(), "generate_series" | "pg_catalog.generate_series" | "range") =>
            {
                alias
            }
            // Unaliased, its column is `generate_series`, as in PostgreSQL.
            TableFactor::Table { name, args: Some(_), alias: alias @ None, .. } if matches!(name.to_string().to_ascii_lowercase().as_str(), "generate_series" | "pg_catalog.generate_series") => {
                alias.insert(TableAlias { explicit: false, name: Ident::new("generate_series"), columns: vec![], at: None })
            }
            TableFactor::UNNEST { alias: Some(alias), array_exprs, with_offset: false, with_ordinality: false, .. } if array_exprs.len() == 1 => alias,
            // Unaliased, its column is `unnest` (pgcli's `SELECT * FROM unnest(current_schemas(true))`).
            TableFactor::UNNEST { alias: alias @ None, array_exprs, with_offset: false, with_ordinality: false, .. } if array_exprs.len() == 1 => {
                alias.insert(TableAlias { explicit: false, name: Ident::new("unnest"), columns: vec![], at: None })
            }
            _ => return ControlFlow::Continue(()),
        };
        if alias.columns.is_empty() {
            alias.columns = vec![TableAliasColumnDef { name: alias.name.clone(), data_type: None }];
        }
        ControlFlow::Continue(())
    }
}

/// `unnest(a, …) WITH ORDINALITY [AS t(x, …, n)]` as `UNNEST(a, …, generate_series(1, n))`,
/// `n` the longest array's length: DataFusion zips the arrays of a multi-argument UNNEST
/// (padding the shorter with NULLs, as PostgreSQL does), so the last column numbers the rows
/// from 1, as PostgreSQL's ordinality does. Unnamed columns are named as PostgreSQL names them:
/// one array's by the alias (or `unnest`), the ordinality `ordinality`.
fn with_ordinality_as_last_array(table: &mut TableFactor) {
    let TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_ordinality: with_ordinality @ true, .. } = table else { return };
    let lengths: Vec<String> = array_exprs.iter().map(|a| format!("cardinality({a})")).collect();
    let longest = if lengths.len() == 1 { lengths[0].clone() } else { format!("greatest({})", lengths.join(", ")) };
    let Ok(ordinals) = crate::parser::parse_expr(&format!("generate_series(1, CAST({longest} AS bigint))")) else { return };
    let arrays = array_exprs.len();
    array_exprs.push(ordinals);
    *with_ordinality = false;
    let alias = alias.get_or_insert_with(|| TableAlias { explicit: true, name: Ident::new("unnest"), columns: vec![], at: None });
    let column = |name: Ident| TableAliasColumnDef { name, data_type: None };
    if alias.columns.is_empty() && arrays == 1 {
        alias.columns.push(column(alias.name.clone()));
    }
    if alias.columns.len() == arrays {
        alias.columns.push(column(Ident::new("ordinality")));
    }
}

/// `unnest((SELECT e …))`: DataFusion names the unnested column after the subquery's column, so
/// two such calls with the same `e` (pgcli's foreign keys unnest `array_agg(attname ORDER BY
/// i)` twice, over different keys) would read the same column. Each subquery's column gets a
/// name of its own.
fn name_unnested_subqueries(stmt: &mut Statement) {
    let mut n = 0;
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Function(f) = e
            && unqualified_name(&f.name.to_string()) == "unnest"
            && let FunctionArguments::List(list) = &mut f.args
            && let [datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(Expr::Subquery(q)))] = list.args.as_mut_slice()
            && let SetExpr::Select(select) = q.body.as_mut()
            && let [SelectItem::UnnamedExpr(item)] = select.projection.as_mut_slice()
        {
            n += 1;
            select.projection = vec![SelectItem::ExprWithAlias { expr: item.clone(), alias: Ident::new(format!("unnested_{n}")) }];
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `EXISTS (q)` in a SELECT list as a count of q's rows (see the module comment).
struct ExistsInSelectLists;

impl VisitorMut for ExistsInSelectLists {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else { return ControlFlow::Continue(()) };
        for item in &mut select.projection {
            let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else { continue };
            let _ = visit_expressions_mut(e, |e| {
                if let Expr::Exists { subquery, negated } = e
                    && let Some(count) = count_query(subquery)
                {
                    let op = if *negated { "=" } else { ">" };
                    if let Ok(cmp) = crate::parser::parse_expr(&format!("(({count}) {op} 0)")) {
                        *e = cmp;
                    }
                }
                ControlFlow::<()>::Continue(())
            });
        }
        ControlFlow::Continue(())
    }
}

/// `generate_series(…)` as a SELECT item (or cast), which in PostgreSQL returns a row per value,
/// is `unnest(generate_series(…))` (DataFusion's returns one array), named `generate_series`;
/// several side by side are zipped, as PostgreSQL does. The other set-returning functions
/// rewritten to `unnest` are named after themselves too.
struct SetReturningSelectItems;

impl VisitorMut for SetReturningSelectItems {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else { return ControlFlow::Continue(()) };
        for item in &mut select.projection {
            let unnamed = matches!(item, SelectItem::UnnamedExpr(_));
            let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else { continue };
            let mut call = &mut *e;
            while let Expr::Cast { expr, .. } | Expr::Nested(expr) = call {
                call = expr.as_mut();
            }
            let Expr::Function(f) = call else { continue };
            let function = unqualified_name(&f.name.to_string());
            match function.as_str() {
                "generate_series" => match crate::parser::parse_expr(&format!("unnest({f})")) {
                    Ok(unnested) => *call = unnested,
                    Err(_) => continue,
                },
                // Become `unnest(…)` below; named here as PostgreSQL names them.
                "string_to_table" | "regexp_split_to_table" | "generate_subscripts" => {}
                _ => continue,
            }
            if unnamed {
                *item = SelectItem::ExprWithAlias { expr: e.clone(), alias: Ident::new(function) };
            }
        }
        ControlFlow::Continue(())
    }
}

/// `SELECT count(*) FROM … WHERE …` of a plain `SELECT`; `None` where the row count is not the
/// FROM and WHERE's (grouping, DISTINCT, limits, set operations).
fn count_query(q: &Query) -> Option<Query> {
    if q.with.is_some() || q.limit_clause.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = q.body.as_ref() else { return None };
    if select.having.is_some() || select.distinct.is_some() || !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty()) {
        return None;
    }
    let mut out = q.clone();
    out.order_by = None;
    let SetExpr::Select(select) = out.body.as_mut() else { return None };
    select.projection = vec![SelectItem::UnnamedExpr(crate::parser::parse_expr("count(*)").ok()?)];
    Some(out)
}

/// `pg_catalog.int4` → `int4`, re-read so it is the same type as the unqualified spelling.
fn unqualify_type(t: &mut DataType) {
    if let DataType::Array(ArrayElemTypeDef::SquareBracket(inner, _) | ArrayElemTypeDef::AngleBracket(inner) | ArrayElemTypeDef::Parenthesis(inner)) = t {
        return unqualify_type(inner);
    }
    let DataType::Custom(name, modifiers) = t else { return };
    if name.0.len() != 2 || !name.0[0].to_string().eq_ignore_ascii_case("pg_catalog") {
        return;
    }
    let mut text = name.0[1].to_string();
    if !modifiers.is_empty() {
        text = format!("{text}({})", modifiers.join(","));
    }
    if let Ok(parsed) = Parser::new(&PostgreSqlDialect {}).try_with_sql(&text).and_then(|mut p| p.parse_data_type()) {
        *t = parsed;
    }
}

/// The aggregating query an `ARRAY(subquery)` of one plain column stands for; `None` for
/// shapes it cannot be (several columns, grouping, limits), left for the planner to refuse.
/// `ARRAY(SELECT f(x) FROM unnest(a) x)`, each element of an array mapped (psql's `\d+` reads
/// `reloptions` so, `a` being an outer column), as `array_transform(a, x -> f(x))`: DataFusion
/// cannot plan an `unnest` of an outer column in a subquery. For a NULL array it is NULL, where
/// PostgreSQL gives `{}`.
fn array_of_unnest(q: &Query) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, ObjectName, OneOrManyWithParens};
    if q.with.is_some() || q.limit_clause.is_some() || q.fetch.is_some() || q.order_by.is_some() {
        return None;
    }
    let SetExpr::Select(select) = q.body.as_ref() else { return None };
    let plain = select.selection.is_none() && select.having.is_none() && select.distinct.is_none() && matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    let ([item], [from], true) = (select.projection.as_slice(), select.from.as_slice(), plain) else { return None };
    let (SelectItem::UnnamedExpr(body) | SelectItem::ExprWithAlias { expr: body, .. }) = item else { return None };
    let TableFactor::UNNEST { alias: Some(alias), array_exprs, with_offset: false, with_ordinality: false, .. } = &from.relation else { return None };
    let ([array], true) = (array_exprs.as_slice(), from.joins.is_empty()) else { return None };
    let name = alias.columns.first().map_or(alias.name.clone(), |c| c.name.clone());
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter { name, data_type: None }),
        body: Box::new(body.clone()),
        syntax: LambdaSyntax::Arrow,
    });
    let arg = |e: Expr| FunctionArg::Unnamed(FunctionArgExpr::Expr(e));
    Some(Expr::Function(Function {
        name: ObjectName::from(vec![datafusion::sql::sqlparser::ast::Ident::new("array_transform")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList { duplicate_treatment: None, args: vec![arg(array.clone()), arg(lambda)], clauses: vec![] }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }))
}

fn array_subquery(q: &Query) -> Option<Query> {
    if q.with.is_some() || q.limit_clause.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = q.body.as_ref() else { return None };
    if select.projection.len() != 1 || select.having.is_some() || select.distinct.is_some() || !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty()) {
        return None;
    }
    let (SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. }) = &select.projection[0] else { return None };
    let order = match q.order_by.as_ref().map(|o| &o.kind) {
        None => String::new(),
        Some(OrderByKind::Expressions(exprs)) => {
            // `ORDER BY 1` names the one output column; inside the aggregate it would be a constant.
            let exprs: Vec<String> = exprs
                .iter()
                .map(|o| {
                    let mut o = o.clone();
                    if o.expr.to_string() == "1" {
                        o.expr = item.clone();
                    }
                    o.to_string()
                })
                .collect();
            format!(" ORDER BY {}", exprs.join(", "))
        }
        Some(_) => return None,
    };
    let agg = crate::parser::parse_expr(&format!("array_agg({item}{order})")).ok()?;
    let mut out = q.clone();
    out.order_by = None;
    let SetExpr::Select(select) = out.body.as_mut() else { return None };
    // Named as PostgreSQL names an ARRAY(…) column.
    select.projection = vec![SelectItem::ExprWithAlias { expr: agg, alias: Ident::with_quote('"', "array") }];
    Some(out)
}

/// `OPERATOR(pg_catalog.op)` for the operators sqlparser has variants of.
fn builtin_operator(op: &BinaryOperator) -> Option<BinaryOperator> {
    let BinaryOperator::PGCustomBinaryOperator(parts) = op else { return None };
    let [schema, name] = parts.as_slice() else { return None };
    if !schema.eq_ignore_ascii_case("pg_catalog") {
        return None;
    }
    Some(match name.as_str() {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "=" => BinaryOperator::Eq,
        "<>" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        "<=" => BinaryOperator::LtEq,
        ">" => BinaryOperator::Gt,
        ">=" => BinaryOperator::GtEq,
        _ => return None,
    })
}

fn is_bytewise(collation: &str) -> bool {
    let name = collation.rsplit('.').next().unwrap_or(collation).trim_matches('"');
    matches!(name, "default" | "C" | "POSIX" | "ucs_basic")
}

#[cfg(test)]
mod tests {
    use crate::parse;

    fn sql(text: &str) -> String {
        parse(text).unwrap().remove(0).to_string()
    }

    #[test]
    fn psql_name_patterns_become_plain_regex_matches() {
        assert_eq!(
            sql("SELECT 1 FROM c WHERE c.relname OPERATOR(pg_catalog.~) '^(items)$' COLLATE pg_catalog.default"),
            "SELECT 1 FROM c WHERE c.relname ~ '^(items)$'"
        );
        assert_eq!(sql("SELECT a COLLATE \"C\" FROM t"), "SELECT a FROM t");
        // A collation QuartzDB does not have is left for the planner to refuse.
        assert!(sql("SELECT a COLLATE \"de_DE\" FROM t").contains("COLLATE"));
        assert!(sql("SELECT a OPERATOR(myschema.~) b").contains("OPERATOR"));
    }

    #[test]
    fn a_scalar_functions_alias_names_its_column() {
        assert_eq!(sql("SELECT i FROM generate_series(1, 3) i"), "SELECT i FROM generate_series(1, 3) i (i)");
        assert_eq!(sql("SELECT w FROM regexp_split_to_table('a b', ' ') w"), "SELECT w FROM UNNEST(regexp_split_to_array('a b', ' ')) w (w)");
        assert_eq!(sql("SELECT * FROM string_to_table('a,b', ',')"), "SELECT * FROM UNNEST(string_to_array('a,b', ',')) string_to_table (string_to_table)");
        assert_eq!(sql("SELECT t AT TIME ZONE 'UTC' FROM x"), "SELECT timezone('UTC', t) FROM x");
        assert_eq!(sql("SELECT 1e10, 2.5E-3, 1.5e3, 15e-1, 1e300"), "SELECT CAST(10000000000 AS NUMERIC), 0.0025, CAST(1500 AS NUMERIC), 1.5, CAST('1e300' AS DOUBLE PRECISION)");
        assert_eq!(sql("SELECT 1e30"), "SELECT CAST(1000000000000000000000000000000 AS NUMERIC(38,0))");
        // Beyond what a double holds, or an absurd exponent: left for the planner to refuse.
        assert_eq!(sql("SELECT 1e400, 1e-9223372036854775808"), "SELECT 1e400, 1e-9223372036854775808");
        assert_eq!(sql("SELECT * FROM unnest(current_schemas(true))"), "SELECT * FROM UNNEST(current_schemas(true)) unnest (unnest)");
        assert_eq!(sql("SELECT user, \"user\" FROM t"), "SELECT current_user, \"user\" FROM t");
        assert_eq!(sql("SELECT s[1] FROM string_to_array('a,b', ',') s"), "SELECT s[1] FROM (SELECT string_to_array('a,b', ',') AS s) s");
        assert_eq!(sql("SELECT * FROM pg_catalog.current_schemas(true) AS c(n)"), "SELECT * FROM (SELECT current_schemas(true) AS n) AS c");
        assert_eq!(sql("SELECT x FROM unnest(ARRAY[1]) AS x"), "SELECT x FROM UNNEST(ARRAY[1]) AS x (x)");
        assert_eq!(sql("SELECT * FROM generate_series(1, 3) AS g(n)"), "SELECT * FROM generate_series(1, 3) AS g (n)");
        assert_eq!(sql("SELECT s.a FROM t s"), "SELECT s.a FROM t s", "a table's alias names only the table");
    }

    #[test]
    fn generate_series_returns_rows_as_in_postgresql() {
        assert_eq!(sql("SELECT generate_series(1, 3)"), "SELECT unnest(generate_series(1, 3)) AS generate_series");
        assert_eq!(sql("SELECT generate_series(1, 3)::text AS n, x FROM t"), "SELECT unnest(generate_series(1, 3))::TEXT AS n, x FROM t");
        assert_eq!(sql("SELECT * FROM generate_series(1, 2)"), "SELECT * FROM generate_series(1, 2) generate_series (generate_series)");
        assert_eq!(
            sql("SELECT * FROM generate_series('2024-01-01'::date, '2024-01-03'::date, '1 day') d"),
            "SELECT * FROM UNNEST(generate_series(CAST('2024-01-01'::DATE AS TIMESTAMP WITH TIME ZONE), CAST('2024-01-03'::DATE AS TIMESTAMP WITH TIME ZONE), CAST('1 day' AS INTERVAL))) d (d)"
        );
        assert_eq!(sql("SELECT * FROM generate_series(1, -2 * $1)"), "SELECT * FROM generate_series(1, -2 * $1) generate_series (generate_series)");
        assert_eq!(sql("SELECT * FROM generate_series(1, 100000000::bigint) g"), "SELECT * FROM generate_series(1, 100000000::BIGINT) g (g)", "streams");
        assert_eq!(sql("SELECT array_agg(x) FROM generate_series(1, 3, 1) x"), "SELECT array_agg(x) FROM generate_series(1, 3, 1) x (x)");
        assert_eq!(sql("SELECT * FROM t, LATERAL generate_series(1, t.n) g"), "SELECT * FROM t, UNNEST(generate_series(1, t.n)) g (g)");
        assert_eq!(sql("SELECT * FROM t CROSS JOIN generate_series(1, n)"), "SELECT * FROM t CROSS JOIN UNNEST(generate_series(1, n)) generate_series (generate_series)");
        assert_eq!(sql("SELECT generate_series(now() - interval '2 days', now(), '1 day')::date"), "SELECT unnest(generate_series(now() - CAST('2 days' AS INTERVAL), now(), CAST('1 day' AS INTERVAL)))::DATE AS generate_series");
    }

    #[test]
    fn array_functions_of_clients_become_plannable_forms() {
        assert_eq!(
            sql("SELECT ARRAY(SELECT 'toast.' || x FROM pg_catalog.unnest(tc.reloptions) x) FROM c"),
            "SELECT array_transform(tc.reloptions, x -> 'toast.' || x) FROM c"
        );
        assert_eq!(
            sql("SELECT attname FROM unnest(c.conkey) WITH ORDINALITY cols(colid, arridx) ORDER BY arridx"),
            "SELECT attname FROM UNNEST(c.conkey, generate_series(1, CAST(cardinality(c.conkey) AS BIGINT))) cols (colid, arridx) ORDER BY arridx"
        );
        assert_eq!(sql("SELECT * FROM pg_catalog.unnest(a) WITH ORDINALITY"), "SELECT * FROM UNNEST(a, generate_series(1, CAST(cardinality(a) AS BIGINT))) AS unnest (unnest, ordinality)");
        assert_eq!(
            sql("SELECT * FROM pg_index i, unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)"),
            "SELECT * FROM pg_index i, UNNEST(i.indkey, i.indoption, generate_series(1, CAST(greatest(cardinality(i.indkey), cardinality(i.indoption)) AS BIGINT))) koi (key, option, arridx)"
        );
        assert_eq!(
            sql("SELECT * FROM t LEFT JOIN LATERAL unnest(t.a) WITH ORDINALITY x ON true"),
            "SELECT * FROM t LEFT JOIN UNNEST(t.a, generate_series(1, CAST(cardinality(t.a) AS BIGINT))) x (x, ordinality) ON true"
        );
        assert_eq!(
            sql("SELECT unnest((SELECT array_agg(x) FROM a)), unnest((SELECT array_agg(x) FROM b)) AS y"),
            "SELECT unnest((SELECT array_agg(x) AS unnested_1 FROM a)), unnest((SELECT array_agg(x) AS unnested_2 FROM b)) AS y"
        );
        assert_eq!(sql("SELECT * FROM unnest(a) WITH ORDINALITY u"), "SELECT * FROM UNNEST(a, generate_series(1, CAST(cardinality(a) AS BIGINT))) u (u, ordinality)");
        assert_eq!(sql("SELECT ARRAY(SELECT x FROM unnest(a) x WHERE x > 1) FROM t"), "SELECT (SELECT array_agg(x) AS \"array\" FROM UNNEST(a) x (x) WHERE x > 1) FROM t");
        assert_eq!(sql("SELECT generate_subscripts(k, 1) FROM t"), "SELECT unnest(generate_series(1, CAST(array_length(k, 1) AS BIGINT))) AS generate_subscripts FROM t");
        assert_eq!(sql("SELECT (information_schema._pg_expandarray(k)).n FROM t"), "SELECT get_field((unnest(quartz_expandarray(k))), 'n') FROM t");
    }

    #[test]
    fn interval_literals_are_casts_of_their_text() {
        assert_eq!(sql("SELECT INTERVAL '1 day 02:00:00', INTERVAL '1' DAY"), "SELECT CAST('1 day 02:00:00' AS INTERVAL), INTERVAL '1' DAY");
    }

    #[test]
    fn catalog_qualified_types_are_the_plain_ones() {
        assert_eq!(sql("SELECT x::pg_catalog.text, y::pg_catalog.regclass, z::pg_catalog.int2[]"), "SELECT x::TEXT, y::REGCLASS, z::INT2[]");
    }

    #[test]
    fn array_of_a_subquery_aggregates_it() {
        assert_eq!(
            sql("SELECT ARRAY(SELECT b.rolname FROM r b WHERE b.oid = m.roleid ORDER BY 1) FROM m"),
            "SELECT (SELECT array_agg(b.rolname ORDER BY b.rolname) AS \"array\" FROM r b WHERE b.oid = m.roleid) FROM m"
        );
        // Two columns cannot be one array: left for the planner to refuse.
        assert!(sql("SELECT ARRAY(SELECT a, b FROM t)").contains("ARRAY"));
    }

    #[test]
    fn exists_in_a_select_list_counts_and_catalog_functions_lose_their_schema() {
        assert_eq!(
            sql("SELECT a, EXISTS (SELECT 1 FROM c WHERE c.x = t.a AND c.y) AS e, NOT EXISTS (SELECT 1 FROM c) FROM t WHERE EXISTS (SELECT 1 FROM c)"),
            "SELECT a, ((SELECT count(*) FROM c WHERE c.x = t.a AND c.y) > 0) AS e, ((SELECT count(*) FROM c) = 0) FROM t WHERE EXISTS (SELECT 1 FROM c)"
        );
        assert!(sql("SELECT EXISTS (SELECT 1 FROM c LIMIT 1)").contains("EXISTS"), "a limited subquery keeps its EXISTS");
        assert_eq!(sql("SELECT x FROM pg_catalog.unnest(ARRAY[1]) x"), "SELECT x FROM UNNEST(ARRAY[1]) x (x)");
        assert_eq!(sql("SELECT array_upper(current_schemas(false), 1)"), "SELECT nullif(CAST(array_length(current_schemas(false), 1) AS BIGINT), 0)");
    }
}
