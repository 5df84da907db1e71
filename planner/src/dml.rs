//! INSERT, UPDATE and DELETE, executed by QuartzDB itself.
//!
//! Each statement holds the storage write lock from the moment it reads until its commit is
//! durable, so it sees the latest committed rows and no concurrent writer can interleave. The
//! rows to change are found with an ordinary DataFusion query (`SELECT _rowaddr, … WHERE …`),
//! which decorrelates subqueries correctly; DataFusion's own DML path (apache/datafusion#24654:
//! DELETE/UPDATE with IN/EXISTS subqueries change every row) is never used.

pub mod check;
pub mod delete;
pub mod insert;
pub mod returning;
mod set_default;
pub mod update;
pub mod upsert;

use datafusion::sql::sqlparser::ast::Statement;

use crate::error::Result;
use crate::session::{Description, Session};

/// Describe for DML: parameter types from planning the statement's row query, and the RETURNING
/// columns if any.
pub async fn describe(session: &Session, stmt: &Statement) -> Result<Description> {
    match stmt {
        Statement::Insert(i) => insert::describe(session, i.clone()).await,
        Statement::Update(u) => update::describe(session, u.clone()).await,
        Statement::Delete(d) => delete::describe(session, d.clone()).await,
        _ => unreachable!("dml::describe is called for DML only"),
    }
}

use std::collections::HashSet;

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::UInt64Type;
use datafusion::common::ParamValues;
use datafusion::sql::sqlparser::ast::{TableFactor, TableWithJoins};
use quartzdb_storage::QualifiedName;

use crate::error::Error;

/// The table an UPDATE or DELETE changes, and the name its columns go by in the statement.
pub(crate) struct Target {
    pub qname: QualifiedName,
    pub alias: String,
    /// `FROM <table> AS "<alias>" [joins]`, as written by the user but always aliased.
    pub from: String,
}

pub(crate) fn target(session: &Session, table: &TableWithJoins) -> Result<Target> {
    let TableFactor::Table { name, alias, .. } = &table.relation else {
        return Err(Error::Unsupported(format!("UPDATE or DELETE of {}", table.relation)));
    };
    let qname = session.qualify(name)?;
    let alias = alias.as_ref().map(|a| crate::names::ident(&a.name)).unwrap_or_else(|| qname.name.clone());
    let mut from = format!("{name} AS {}", quote(&alias));
    for join in &table.joins {
        from.push_str(&format!(" {join}"));
    }
    Ok(Target { qname, alias, from })
}

/// A double-quoted SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `SELECT <alias>._rowaddr, … FROM … WHERE …` (planned with the target's row addresses
/// visible) and returns its rows, each target row once: with joins a row can match several
/// times, and PostgreSQL changes it once.
pub(crate) async fn matching_rows(session: &Session, target: &Target, sql: &str, params: Option<ParamValues>) -> Result<Vec<RecordBatch>> {
    let plan = plan_matching(session, target, sql).await?;
    let plan = crate::params::bind(plan, params)?;
    let batches = session.collect(plan).await?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let addrs = batch.column(0).as_primitive::<UInt64Type>();
        let keep: arrow::array::BooleanArray = addrs.iter().map(|a| Some(a.map(|a| seen.insert(a)).unwrap_or(false))).collect();
        out.push(filter_record_batch(&batch, &keep)?);
    }
    Ok(out)
}

pub(crate) async fn plan_matching(session: &Session, target: &Target, sql: &str) -> Result<datafusion::logical_expr::LogicalPlan> {
    let stmt = quartzdb_sql::parse(sql)?.pop().ok_or_else(|| Error::Internal("empty row query".into()))?;
    session.plan_with_row_addr(&target.qname, stmt).await
}

/// Where [`register_rows`] puts rows: a catalog of its own, never the user's.
pub(crate) const ROWS_SCHEMA: &str = "__quartz_rows.s";

/// Makes `rows` visible to this session's SQL as `__quartz_rows.s.<name>` (replacing an
/// earlier table of that name); returns the schema, to deregister it after use.
pub(crate) fn register_rows(session: &Session, name: &str, rows: RecordBatch) -> Result<std::sync::Arc<dyn datafusion::catalog::SchemaProvider>> {
    use datafusion::catalog::{CatalogProvider as _, MemoryCatalogProvider, MemorySchemaProvider};
    use std::sync::Arc;
    let (catalog_name, schema_name) = ROWS_SCHEMA.split_once('.').expect("catalog.schema");
    let ctx = session.context();
    let catalog = match ctx.catalog(catalog_name) {
        Some(c) => c,
        None => {
            let c = Arc::new(MemoryCatalogProvider::new());
            c.register_schema(schema_name, Arc::new(MemorySchemaProvider::new()))?;
            ctx.register_catalog(catalog_name, c.clone());
            c
        }
    };
    let schema = catalog.schema(schema_name).ok_or_else(|| Error::Internal("rows schema missing".into()))?;
    let table = datafusion::datasource::MemTable::try_new(rows.schema(), vec![vec![rows]])?;
    let _ = schema.deregister_table(name);
    schema.register_table(name.into(), Arc::new(table))?;
    Ok(schema)
}

/// The row addresses in column 0 of `batches`.
pub(crate) fn row_addrs(batches: &[RecordBatch]) -> Vec<u64> {
    batches.iter().flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().iter().copied().collect::<Vec<_>>()).collect()
}

/// Columns `range` of `batches` as batches of the table's schema.
pub(crate) fn columns(batches: &[RecordBatch], range: std::ops::Range<usize>, schema: &arrow::datatypes::SchemaRef) -> Result<Vec<RecordBatch>> {
    batches
        .iter()
        .map(|b| Ok(RecordBatch::try_new(schema.clone(), b.columns()[range.clone()].to_vec())?))
        .collect()
}

/// The result of a DML statement on `target`: its tag, or the RETURNING rows evaluated over
/// `rows` (the written or deleted rows, in the table's schema).
pub(crate) async fn finish(
    session: &Session,
    target: &Target,
    schema: arrow::datatypes::SchemaRef,
    rows: Vec<RecordBatch>,
    returning: Option<Vec<datafusion::sql::sqlparser::ast::SelectItem>>,
    tag: crate::output::CommandTag,
) -> Result<crate::output::Output> {
    match returning {
        None => Ok(crate::output::Output::Command(tag)),
        Some(items) => returning::output(session, &target.qname.name, Some(&target.alias), schema, rows, items, tag).await,
    }
}

/// Describe for UPDATE and DELETE: parameter types of the row query, RETURNING columns.
pub(crate) async fn describe_matching(
    session: &Session,
    target: &Target,
    sql: &str,
    returning: Option<Vec<datafusion::sql::sqlparser::ast::SelectItem>>,
) -> Result<Description> {
    let plan = plan_matching(session, target, sql).await?;
    let params = crate::params::parameter_types(&plan)?;
    let columns = match returning {
        Some(items) => Some(returning::schema(session, &target.qname, Some(&target.alias), &items).await?),
        None => None,
    };
    Ok(Description { params, columns })
}
