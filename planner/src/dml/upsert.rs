//! `INSERT … ON CONFLICT [target] DO NOTHING | DO UPDATE SET … [WHERE …]`.
//!
//! The proposed rows (already defaulted, cast and checked) are exposed to SQL as the table
//! `excluded`, with their position as `__ord`. Joins against the target table on the arbiter
//! constraint's columns find which proposed rows conflict with stored ones; conflicts among the
//! proposed rows themselves are found while walking them in order. The result is one ordinary
//! [`RowChange`]: rows to append, and for DO UPDATE the old versions of updated rows to delete.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, UInt64Array};
use arrow::compute::{concat_batches, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use datafusion::common::ScalarValue;
use datafusion::sql::sqlparser::ast::{ConflictTarget, OnConflict, OnConflictAction, OnInsert};
use quartzdb_storage::{ConstraintMeta, QualifiedName, ROW_ADDR, RowChange, TableMeta};

use crate::dml::{check, quote, update};
use crate::error::{Error, Result};
use crate::names;
use crate::session::Session;


/// The rows an upsert writes: `change` to commit, `written` (new versions of inserted and
/// updated rows) for RETURNING and the row count.
pub struct Upsert {
    pub change: RowChange,
    pub written: Vec<RecordBatch>,
}

pub async fn plan(session: &Session, qname: &QualifiedName, alias: Option<&str>, meta: &TableMeta, schema: &SchemaRef, proposed: Vec<RecordBatch>, on: OnInsert) -> Result<Upsert> {
    let OnInsert::OnConflict(OnConflict { conflict_target, action }) = on else {
        return Err(Error::Unsupported("ON DUPLICATE KEY UPDATE (use ON CONFLICT)".into()));
    };
    let arbiters = arbiters(meta, conflict_target.as_ref(), matches!(action, OnConflictAction::DoUpdate(_)))?;
    let proposed = if proposed.is_empty() { RecordBatch::new_empty(schema.clone()) } else { concat_batches(schema, &proposed)? };
    let excluded = with_ordinal(&proposed)?;
    let tables = crate::dml::register_rows(session, "excluded", excluded)?;
    let result = resolve(session, qname, alias, meta, schema, &proposed, &arbiters, action).await;
    let _ = tables.deregister_table("excluded");
    result
}

async fn resolve(
    session: &Session,
    qname: &QualifiedName,
    alias: Option<&str>,
    meta: &TableMeta,
    schema: &SchemaRef,
    proposed: &RecordBatch,
    arbiters: &[ConstraintMeta],
    action: OnConflictAction,
) -> Result<Upsert> {
    let alias = alias.map(str::to_string).unwrap_or_else(|| qname.name.clone());
    let a = quote(&alias);
    let from = format!("{}.{} AS {a} JOIN {}.excluded AS excluded", quote(&qname.schema), quote(&qname.name), crate::dml::ROWS_SCHEMA);
    // Proposed rows that collide with a stored row on an arbiter constraint.
    let mut conflicting: HashSet<u64> = HashSet::new();
    for c in arbiters {
        let sql = format!("SELECT excluded.__ord FROM {from} ON {}", join_on(&a, c));
        for batch in run(session, qname, &sql).await? {
            conflicting.extend(batch.column(0).as_primitive::<UInt64Type>().values().iter().copied());
        }
    }
    match action {
        OnConflictAction::DoNothing => {
            let keep = first_of_each_key(proposed, meta, arbiters, &conflicting, false)?;
            let inserted = filter_record_batch(proposed, &keep.into())?;
            Ok(Upsert { change: RowChange { inserted: vec![inserted.clone()], ..Default::default() }, written: vec![inserted] })
        }
        OnConflictAction::DoUpdate(update) => {
            let keep = first_of_each_key(proposed, meta, arbiters, &conflicting, true)?;
            let mut order: Vec<u64> = keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i as u64).collect();
            let fresh = filter_record_batch(proposed, &keep.into())?;
            let assigned = update::assignments(&qname.name, meta, update.assignments)?;
            let mut sql = format!(
                "SELECT {a}.{ROW_ADDR} AS __rowaddr, excluded.__ord, {} FROM {from} ON {}",
                update::new_and_old(&a, meta, &assigned),
                join_on(&a, &arbiters[0])
            );
            if let Some(selection) = &update.selection {
                sql.push_str(&format!(" WHERE {selection}"));
            }
            let rows = run(session, qname, &sql).await?;
            let width = schema.fields().len();
            let new = crate::dml::columns(&rows, 2..2 + width, schema)?;
            let new = check::conform(&qname.name, meta, schema, new)?;
            crate::check_constraint::enforce(session, &qname.name, meta, schema, &new).await?;
            let old = crate::dml::columns(&rows, 2 + width..2 + 2 * width, schema)?;
            order.extend(rows.iter().flat_map(|b| b.column(1).as_primitive::<UInt64Type>().values().to_vec()));
            let mut inserted = vec![fresh];
            inserted.extend(new);
            // RETURNING lists the rows in the order they were proposed, as PostgreSQL does.
            let written = in_proposal_order(schema, &inserted, &order)?;
            let change = RowChange { deleted_addrs: crate::dml::row_addrs(&rows), deleted_rows: old, inserted, updated_from: Some(1) };
            Ok(Upsert { change, written: vec![written] })
        }
    }
}

/// The constraints an ON CONFLICT clause arbitrates on.
fn arbiters(meta: &TableMeta, target: Option<&ConflictTarget>, do_update: bool) -> Result<Vec<ConstraintMeta>> {
    let no_match = || Error::InvalidConflictTarget;
    match target {
        None if do_update => Err(Error::Syntax("ON CONFLICT DO UPDATE requires inference specification or constraint name".into())),
        None => Ok(meta.constraints.clone()),
        Some(ConflictTarget::Columns(cols)) => {
            let wanted: HashSet<String> = cols.iter().map(names::ident).collect();
            meta.constraints
                .iter()
                .find(|c| c.columns.iter().cloned().collect::<HashSet<_>>() == wanted)
                .map(|c| vec![c.clone()])
                .ok_or_else(no_match)
        }
        Some(ConflictTarget::OnConstraint(name)) => {
            let name = names::single(name)?;
            meta.constraints
                .iter()
                .find(|c| c.name == name)
                .map(|c| vec![c.clone()])
                .ok_or_else(|| Error::UnknownConstraint(name))
        }
    }
}

fn join_on(alias: &str, c: &ConstraintMeta) -> String {
    c.columns.iter().map(|col| format!("{alias}.{0} = excluded.{0}", quote(col))).collect::<Vec<_>>().join(" AND ")
}

/// Which proposed rows to insert: not conflicting with stored rows, and the first of any group
/// with equal keys. For DO UPDATE a repeated key is an error, as in PostgreSQL.
fn first_of_each_key(proposed: &RecordBatch, meta: &TableMeta, arbiters: &[ConstraintMeta], conflicting: &HashSet<u64>, do_update: bool) -> Result<Vec<bool>> {
    let schema = proposed.schema();
    let mut seen: Vec<HashSet<Vec<ScalarValue>>> = vec![HashSet::new(); arbiters.len()];
    let mut keep = Vec::with_capacity(proposed.num_rows());
    for row in 0..proposed.num_rows() {
        let mut repeated = false;
        let mut keys = Vec::with_capacity(arbiters.len());
        for (i, c) in arbiters.iter().enumerate() {
            let key = c
                .columns
                .iter()
                .map(|col| {
                    let idx = schema.index_of(col).map_err(|_| Error::Internal(format!("constraint column {col} of {}", meta.oid)))?;
                    Ok(ScalarValue::try_from_array(proposed.column(idx), row)?)
                })
                .collect::<Result<Vec<_>>>()?;
            // NULLs never conflict.
            if !key.iter().any(ScalarValue::is_null) {
                repeated |= seen[i].contains(&key);
                keys.push((i, key));
            }
        }
        if repeated && do_update {
            return Err(Error::CardinalityViolation);
        }
        let insert = !repeated && !conflicting.contains(&(row as u64));
        if insert || do_update {
            for (i, key) in keys {
                seen[i].insert(key);
            }
        }
        keep.push(insert);
    }
    Ok(keep)
}

/// `batches` (one row per entry of `order`, the row's position among the proposed rows) sorted
/// by that position.
fn in_proposal_order(schema: &SchemaRef, batches: &[RecordBatch], order: &[u64]) -> Result<RecordBatch> {
    let all = concat_batches(schema, batches)?;
    let positions = arrow::compute::sort_to_indices(&UInt64Array::from(order.to_vec()), None, None)?;
    Ok(arrow::compute::take_record_batch(&all, &positions)?)
}

fn with_ordinal(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut fields: Vec<Field> = batch.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("__ord", DataType::UInt64, false));
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(UInt64Array::from_iter_values(0..batch.num_rows() as u64)));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

async fn run(session: &Session, qname: &QualifiedName, sql: &str) -> Result<Vec<RecordBatch>> {
    let stmt = quartzdb_sql::parse(sql)?.pop().ok_or_else(|| Error::Internal("empty upsert query".into()))?;
    let plan = session.plan_with_row_addr(qname, stmt).await?;
    session.collect(plan).await
}
