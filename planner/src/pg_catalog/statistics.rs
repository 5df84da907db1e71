//! `pg_stat_user_tables`: each table's live row count (`n_live_tup`, which Metabase shows as a
//! table's estimated size), counted from its Lance dataset's committed rows. QuartzDB collects
//! no access statistics, so the scan, tuple and maintenance counters are NULL rather than
//! invented numbers.

use datafusion::error::Result;
use arrow::array::RecordBatch;
use quartzdb_storage::{Catalog, Storage};

use super::builder::Table;

struct Row {
    oid: u32,
    schema: String,
    name: String,
    live: Option<i64>,
}

pub async fn pg_stat_user_tables(storage: &Storage, catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for (sname, s) in &db.schemas {
            for (tname, meta) in &s.tables {
                let live = match storage.dataset(meta).await {
                    Ok(ds) => ds.count_rows(None).await.ok().map(|n| n as i64),
                    Err(e) => {
                        tracing::debug!(table = %tname, error = %e, "row count left out of pg_stat_user_tables");
                        None
                    }
                };
                rows.push(Row { oid: meta.oid, schema: sname.clone(), name: tname.clone(), live });
            }
        }
    }
    let mut table = Table::new(&rows).oid("relid", |r| r.oid).text("schemaname", |r| Some(r.schema.clone())).text("relname", |r| Some(r.name.clone()));
    for counter in ["seq_scan", "seq_tup_read", "idx_scan", "idx_tup_fetch", "n_tup_ins", "n_tup_upd", "n_tup_del", "n_tup_hot_upd"] {
        table = table.null_i64(counter);
    }
    table = table.opt_i64("n_live_tup", |r| r.live);
    for counter in ["n_dead_tup", "n_mod_since_analyze", "n_ins_since_vacuum"] {
        table = table.null_i64(counter);
    }
    for time in ["last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze"] {
        table = table.timestamptz(time, |_| None);
    }
    for counter in ["vacuum_count", "autovacuum_count", "analyze_count", "autoanalyze_count"] {
        table = table.null_i64(counter);
    }
    table.finish()
}
