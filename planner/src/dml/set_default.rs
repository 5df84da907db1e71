//! ON DELETE | ON UPDATE SET DEFAULT: storage runs the referential actions but cannot evaluate
//! SQL, so before a statement that may fire one, the referencing columns' defaults of every
//! SET DEFAULT key of the database are evaluated here, once, and handed to the transaction.
//! (PostgreSQL evaluates them per affected row: a volatile default such as `nextval` gives
//! every row the same value here.)

use std::collections::HashMap;

use futures::TryStreamExt;
use quartzdb_storage::Txn;

use crate::error::{Error, Result};
use crate::output::Output;
use crate::session::Session;

/// Evaluates the defaults the SET DEFAULT keys would write (nothing when there are none).
pub(crate) async fn prepare(session: &mut Session, txn: &mut Txn) -> Result<()> {
    let catalog = txn.catalog();
    let mut wanted = Vec::new();
    for (table, fk) in catalog.foreign_keys(session.database()) {
        if fk.on_delete != 'd' && fk.on_update != 'd' {
            continue;
        }
        let mut values = Vec::with_capacity(fk.columns.len());
        for (i, name) in fk.columns.iter().enumerate() {
            let column = table.columns.iter().find(|c| &c.name == name).ok_or_else(|| Error::Internal(format!("foreign key {} names a missing column", fk.name)))?;
            let default = format!("({})", column.default.as_deref().unwrap_or("NULL"));
            let value = crate::types::assignment_sql(&column.type_name, &default).unwrap_or_else(|| format!("CAST({default} AS {})", column.type_name));
            values.push(format!("{value} AS c{i}"));
        }
        wanted.push(((table.oid, fk.name.clone()), format!("SELECT {}", values.join(", "))));
    }
    let mut defaults = HashMap::with_capacity(wanted.len());
    for (key, sql) in wanted {
        let Some(stmt) = quartzdb_sql::parse(&sql)?.pop() else { continue };
        let Output::Rows { stream, .. } = session.run_query(stmt).await? else {
            return Err(Error::Internal("a default's query returned no rows".into()));
        };
        let batches: Vec<arrow::array::RecordBatch> = stream.try_collect().await?;
        let batch = batches.into_iter().find(|b| b.num_rows() > 0).ok_or_else(|| Error::Internal("a default's query returned no rows".into()))?;
        defaults.insert(key, batch);
    }
    txn.fk_defaults = defaults;
    Ok(())
}
