//! `INSERT INTO t [(cols)] VALUES … | SELECT … | DEFAULT VALUES [RETURNING …]`.
//!
//! Defaults are filled in by rewriting the statement before DataFusion plans it: `DEFAULT` in
//! VALUES and omitted columns become the column's default expression (or NULL). DataFusion then
//! plans the row source with its casts to the column types, and QuartzDB runs it, checks the rows
//! and commits them.

use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::{
    self, Expr as SqlExpr, Ident, Insert, ObjectName, ObjectNamePart, Query, SelectItem, SetExpr, Statement, TableObject,
    Value,
};
use datafusion::common::ParamValues;
use quartzdb_storage::{QualifiedName, RowChange, TableMeta, Txn};

use crate::dml::{check, returning, upsert};
use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::params;
use crate::session::{Description, Session, row_count};

pub async fn execute(session: &mut Session, txn: &mut Txn, mut insert: Insert, params: Option<ParamValues>) -> Result<Output> {
    let qname = target(session, &insert)?;
    let on = insert.on.take();
    // DataFusion does not take `INSERT INTO t AS a`; the alias only matters to ON CONFLICT and
    // RETURNING, which QuartzDB evaluates itself.
    let alias = insert.table_alias.take().map(|a| names::ident(&a.alias));
    let returning = insert.returning.take();
    let storage = session.storage().clone();
    let meta = txn.catalog().table(session.database(), &qname)?.clone();
    let dataset = storage.txn_dataset(txn, &meta).await?;
    let schema = quartzdb_storage::table_schema(&dataset);

    let plan = plan_rows(session, insert, &meta).await?;
    let plan = params::bind(plan, params)?;
    let rows = session.collect(plan).await?;
    let rows = check::conform(&qname.name, &meta, &schema, rows)?;
    let schema = std::sync::Arc::new(schema);
    crate::check_constraint::enforce(session, &qname.name, &meta, &schema, &rows).await?;
    let (change, rows) = match on {
        None => (RowChange { inserted: rows.clone(), ..Default::default() }, rows),
        Some(on) => {
            let upsert = upsert::plan(session, &qname, alias.as_deref(), &meta, &schema, rows, on).await?;
            (upsert.change, upsert.written)
        }
    };
    let n = row_count(&rows);
    if n > 0 {
        if !change.deleted_addrs.is_empty() {
            Box::pin(crate::dml::set_default::prepare(session, txn)).await?;
        }
        storage.commit_rows(txn, session.database(), &qname, change).await?;
    }
    let tag = CommandTag::insert(n);
    match returning {
        None => Ok(Output::Command(tag)),
        Some(items) => returning::output(session, &qname.name, alias.as_deref(), schema, rows, items, tag).await,
    }
}

pub async fn describe(session: &Session, mut insert: Insert) -> Result<Description> {
    let qname = target(session, &insert)?;
    let returning = insert.returning.take();
    insert.on = None;
    let alias = insert.table_alias.take().map(|a| names::ident(&a.alias));
    let meta = session.catalog().table(session.database(), &qname)?.clone();
    let plan = plan_rows(session, insert, &meta).await?;
    let params = params::parameter_types(&plan)?;
    let columns = match returning {
        Some(items) => Some(returning::schema(session, &qname, alias.as_deref(), &items).await?),
        None => None,
    };
    Ok(Description { params, columns })
}

fn target(session: &Session, insert: &Insert) -> Result<QualifiedName> {
    match &insert.table {
        TableObject::TableName(name) => session.qualify(name),
        TableObject::TableFunction(_) | TableObject::TableQuery(_) => Err(Error::Unsupported(format!("INSERT INTO {}", insert.table))),
    }
}

/// Plans the rows to insert, in the table's column order and types.
async fn plan_rows(session: &Session, mut insert: Insert, meta: &TableMeta) -> Result<LogicalPlan> {
    fill_defaults(&mut insert, meta)?;
    match session.plan_statement(Statement::Insert(insert)).await? {
        LogicalPlan::Dml(dml) => Ok(dml.input.as_ref().clone()),
        other => Err(Error::Internal(format!("INSERT planned as {}", other.display()))),
    }
}

/// Rewrites the statement so every table column is given a value: `DEFAULT` markers and omitted
/// columns take the column default, and identity columns declared `GENERATED ALWAYS` refuse
/// explicit values.
fn fill_defaults(insert: &mut Insert, meta: &TableMeta) -> Result<()> {
    let table = meta.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let mut listed: Vec<String> = insert
        .columns
        .iter()
        .map(|c| match c.0.as_slice() {
            [p] => p.as_ident().map(names::ident).ok_or_else(|| Error::Syntax(format!("invalid column {c}"))),
            _ => Err(Error::Syntax(format!("invalid column {c}"))),
        })
        .collect::<Result<_>>()?;
    for c in &listed {
        if !table.contains(c) {
            return Err(Error::UnknownColumn { table: String::new(), column: c.clone() });
        }
    }
    let Some(source) = insert.source.as_mut() else {
        // DEFAULT VALUES
        let row = meta.columns.iter().map(default_expr).collect::<Result<Vec<_>>>()?;
        insert.columns = table.iter().map(|c| column_name(c)).collect();
        insert.source = Some(Box::new(values_query(vec![row])));
        return Ok(());
    };
    if let SetExpr::Values(values) = source.body.as_mut() {
        let width = values.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        if listed.is_empty() {
            if width > table.len() {
                return Err(Error::Syntax("INSERT has more expressions than target columns".into()));
            }
            listed = table[..width].to_vec();
        } else if width > listed.len() {
            return Err(Error::Syntax("INSERT has more expressions than target columns".into()));
        } else if values.rows.iter().any(|r| r.len() < listed.len()) {
            return Err(Error::Syntax("INSERT has more target columns than expressions".into()));
        }
        let missing: Vec<&quartzdb_storage::ColumnMeta> = meta.columns.iter().filter(|c| !listed.contains(&c.name)).collect();
        for row in values.rows.iter_mut() {
            for (i, expr) in row.content.iter_mut().enumerate() {
                let col = meta.columns.iter().find(|c| c.name == listed[i]).expect("listed columns exist");
                if is_default_marker(expr) {
                    *expr = default_expr(col)?;
                } else if col.generated_always {
                    return Err(Error::GeneratedAlways(col.name.clone()));
                }
                assignment_cast(expr, col)?;
            }
            for col in &missing {
                let mut expr = default_expr(col)?;
                assignment_cast(&mut expr, col)?;
                row.content.push(expr);
            }
        }
        listed.extend(missing.iter().map(|c| c.name.clone()));
    } else {
        if listed.is_empty() {
            listed = table.clone();
        }
        for c in &listed {
            if meta.columns.iter().any(|m| &m.name == c && m.generated_always) {
                return Err(Error::GeneratedAlways(c.clone()));
            }
        }
        // A quoted literal in the SELECT list has no type yet in PostgreSQL and takes its column's
        // (`INSERT INTO t SELECT i, '[1,2,3]' FROM …` fills a vector column).
        if let SetExpr::Select(select) = source.body.as_mut()
            && !select.projection.iter().any(|p| matches!(p, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)))
        {
            for (item, name) in select.projection.iter_mut().zip(&listed) {
                let col = meta.columns.iter().find(|c| &c.name == name).expect("listed columns exist");
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                    && matches!(e, SqlExpr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
                {
                    assignment_cast(e, col)?;
                }
            }
        }
        let missing: Vec<&quartzdb_storage::ColumnMeta> = meta.columns.iter().filter(|c| !listed.contains(&c.name)).collect();
        if !missing.is_empty() {
            // SELECT *, <defaults> FROM (<source>) AS __insert_source
            let mut projection = vec![SelectItem::Wildcard(Default::default())];
            for col in &missing {
                projection.push(SelectItem::ExprWithAlias { expr: default_expr(col)?, alias: Ident::new(col.name.clone()) });
            }
            let wrapped = format!(
                "SELECT {} FROM ({}) AS __insert_source",
                projection.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
                source
            );
            let Ok(mut stmts) = quartzdb_sql::parse(&wrapped) else {
                return Err(Error::Internal("default rewrite produced invalid SQL".into()));
            };
            let Some(Statement::Query(q)) = stmts.pop() else {
                return Err(Error::Internal("default rewrite produced a non-query".into()));
            };
            **source = *q;
            listed.extend(missing.iter().map(|c| c.name.clone()));
        }
    }
    insert.columns = listed.iter().map(|c| column_name(c)).collect();
    Ok(())
}

/// Values for vector and bit-string columns are assigned by QuartzDB: DataFusion's implicit
/// INSERT casts are Arrow's, which cannot read `'[1,2,3]'` or `'101'` (see `types::assignment_sql`).
fn assignment_cast(expr: &mut SqlExpr, col: &quartzdb_storage::ColumnMeta) -> Result<()> {
    if let Some(sql) = crate::types::assignment_sql(&col.type_name, &expr.to_string()) {
        *expr = quartzdb_sql::parse_expr(&sql)?;
    }
    Ok(())
}

fn is_default_marker(expr: &SqlExpr) -> bool {
    matches!(expr, SqlExpr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

fn default_expr(col: &quartzdb_storage::ColumnMeta) -> Result<SqlExpr> {
    match &col.default {
        Some(text) => Ok(quartzdb_sql::parse_expr(text)?),
        None => Ok(SqlExpr::Value(Value::Null.into())),
    }
}

fn column_name(name: &str) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote('"', name))])
}

fn values_query(rows: Vec<Vec<SqlExpr>>) -> Query {
    let sql = format!(
        "VALUES {}",
        rows.iter()
            .map(|r| format!("({})", r.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match quartzdb_sql::parse(&sql).ok().and_then(|mut s| s.pop()) {
        Some(Statement::Query(q)) => *q,
        _ => unreachable!("VALUES of parsed expressions parses"),
    }
}

#[allow(unused_imports)]
use ast as _;
