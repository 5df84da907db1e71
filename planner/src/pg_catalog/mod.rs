//! The `pg_catalog` schema: for now the tables drivers read to find types by name (`pg_type`,
//! `pg_namespace`, `pg_extension`), `pg_indexes`, and the functions and casts that go with them
//! (`to_regtype`, `format_type`, `::regtype`). Unqualified names find these tables from any
//! schema, as PostgreSQL searches `pg_catalog` implicitly.
//!
//! Tables are built from QuartzDB's catalog when a statement is planned, so they are always
//! current. The wider catalog that psql and ORMs need (pg_class, pg_attribute, …) comes with
//! the client-compatibility work.

pub mod casts;
pub mod functions;
pub mod indexes;
pub mod types;

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int16Array, Int32Array, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{Field, Schema};
use async_trait::async_trait;
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::error::Result;
use quartzdb_storage::Storage;

use crate::vector::EXTENSION_VERSION;
use types::{PG_CATALOG_OID, PUBLIC_OID};

pub const SCHEMA: &str = "pg_catalog";
const TABLES: [&str; 4] = ["pg_type", "pg_namespace", "pg_extension", "pg_indexes"];
/// The bootstrap superuser's OID in PostgreSQL, owner of everything built in.
const SUPERUSER_OID: u32 = 10;
const INFORMATION_SCHEMA_OID: u32 = 13_000;

#[derive(Debug)]
pub struct PgCatalog {
    storage: Arc<Storage>,
    database: String,
}

impl PgCatalog {
    pub fn new(storage: Arc<Storage>, database: String) -> Self {
        Self { storage, database }
    }

    pub fn has(name: &str) -> bool {
        TABLES.contains(&name)
    }

    /// Builds one of the tables, or `None` for names it does not have.
    pub fn build(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let batch = match name {
            "pg_type" => pg_type()?,
            "pg_namespace" => self.pg_namespace()?,
            "pg_extension" => pg_extension()?,
            "pg_indexes" => indexes::pg_indexes(&self.storage, &self.database)?,
            _ => return Ok(None),
        };
        Ok(Some(Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?)))
    }

    fn pg_namespace(&self) -> Result<RecordBatch> {
        let mut rows = vec![(PG_CATALOG_OID, SCHEMA.to_string()), (INFORMATION_SCHEMA_OID, "information_schema".to_string())];
        let catalog = self.storage.catalog();
        if let Ok(db) = catalog.database(&self.database) {
            for (name, s) in &db.schemas {
                rows.push((if name == "public" { PUBLIC_OID } else { s.oid }, name.clone()));
            }
        }
        batch(vec![
            ("oid", Arc::new(rows.iter().map(|r| r.0).collect::<UInt32Array>())),
            ("nspname", Arc::new(rows.iter().map(|r| Some(r.1.as_str())).collect::<StringArray>())),
            ("nspowner", Arc::new(UInt32Array::from(vec![SUPERUSER_OID; rows.len()]))),
            ("nspacl", Arc::new(StringArray::from(vec![None::<&str>; rows.len()]))),
        ])
    }
}

/// Columns of PostgreSQL's one-byte `"char"` type, which drivers decode as bytes (asyncpg
/// compares `typtype` with `b'b'`).
const CHAR_COLUMNS: [&str; 3] = ["typtype", "typcategory", "typdelim"];

fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let field = |n: &str, a: &ArrayRef| {
        let f = Field::new(n, a.data_type().clone(), true);
        if CHAR_COLUMNS.contains(&n) { f.with_metadata(crate::types::field_metadata("\"char\"")) } else { f }
    };
    let schema = Schema::new(columns.iter().map(|(n, a)| field(n, a)).collect::<Vec<_>>());
    Ok(RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect())?)
}

fn pg_type() -> Result<RecordBatch> {
    let t = types::types();
    let n = t.len();
    let text = |f: &dyn Fn(&types::TypeRow) -> String| Arc::new(t.iter().map(|r| Some(f(r))).collect::<StringArray>()) as ArrayRef;
    let oids = |f: &dyn Fn(&types::TypeRow) -> u32| Arc::new(t.iter().map(f).collect::<UInt32Array>()) as ArrayRef;
    batch(vec![
        ("oid", oids(&|r| r.oid)),
        ("typname", text(&|r| r.name.clone())),
        ("typnamespace", oids(&|r| r.namespace)),
        ("typowner", oids(&|_| SUPERUSER_OID)),
        ("typlen", Arc::new(t.iter().map(|r| r.len).collect::<Int16Array>())),
        ("typbyval", Arc::new(t.iter().map(|r| Some((1..=8).contains(&r.len))).collect::<BooleanArray>())),
        ("typtype", text(&|r| r.kind.to_string())),
        ("typcategory", text(&|r| r.category.to_string())),
        ("typispreferred", Arc::new(BooleanArray::from(vec![false; n]))),
        ("typisdefined", Arc::new(BooleanArray::from(vec![true; n]))),
        ("typdelim", text(&|_| ",".to_string())),
        ("typrelid", oids(&|_| 0)),
        ("typelem", oids(&|r| r.elem)),
        ("typarray", oids(&|r| r.array)),
        ("typbasetype", oids(&|_| 0)),
        ("typtypmod", Arc::new(Int32Array::from(vec![-1; n]))),
        ("typndims", Arc::new(Int32Array::from(vec![0; n]))),
        ("typcollation", oids(&|r| if r.category == 'S' { 100 } else { 0 })),
        ("typnotnull", Arc::new(BooleanArray::from(vec![false; n]))),
        ("typdefault", Arc::new(StringArray::from(vec![None::<&str>; n]))),
    ])
}

/// pgvector is always installed; `plpgsql` is listed because every PostgreSQL has it.
fn pg_extension() -> Result<RecordBatch> {
    let rows = [(13_001u32, "plpgsql", PG_CATALOG_OID, "1.0"), (16_390, "vector", PUBLIC_OID, EXTENSION_VERSION)];
    batch(vec![
        ("oid", Arc::new(rows.iter().map(|r| r.0).collect::<UInt32Array>())),
        ("extname", Arc::new(rows.iter().map(|r| Some(r.1)).collect::<StringArray>())),
        ("extowner", Arc::new(UInt32Array::from(vec![SUPERUSER_OID; rows.len()]))),
        ("extnamespace", Arc::new(rows.iter().map(|r| r.2).collect::<UInt32Array>())),
        ("extrelocatable", Arc::new(BooleanArray::from(vec![false, true]))),
        ("extversion", Arc::new(rows.iter().map(|r| Some(r.3)).collect::<StringArray>())),
        ("extconfig", Arc::new(StringArray::from(vec![None::<&str>; rows.len()]))),
        ("extcondition", Arc::new(StringArray::from(vec![None::<&str>; rows.len()]))),
    ])
}

#[async_trait]
impl SchemaProvider for PgCatalog {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|t| t.to_string()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.build(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        Self::has(name)
    }
}
