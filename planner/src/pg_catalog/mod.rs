//! The `pg_catalog` schema: the tables and views psql, drivers and ORMs read (`pg_class`,
//! `pg_attribute`, `pg_type`, `pg_index`, `pg_constraint`, `pg_namespace`, `pg_database`,
//! `pg_roles`, …), and the functions and casts that go with them (`format_type`,
//! `pg_get_indexdef`, `::regtype`, `::regclass`). Unqualified names find these tables from any
//! schema, as PostgreSQL searches `pg_catalog` implicitly.
//!
//! Tables are built from QuartzDB's catalog when a statement is planned, so they are always
//! current. They are written here rather than taken from datafusion-pg-catalog: that crate
//! sees only DataFusion's catalog (names and Arrow schemas), numbers objects with a
//! per-process counter, and ships `pg_index`/`pg_constraint`/`pg_attrdef` as snapshots of
//! another server, so keys, defaults, indexes and stable OIDs could not come through it.

mod builder;
pub mod casts;
pub mod descriptions;
pub mod empty_subqueries;
pub mod functions;
mod global;
pub mod indexes;
pub mod information_schema;
pub mod keywords;
pub mod objects;
pub mod relations;
pub mod session_views;
mod statistics;
pub mod type_of;
pub mod types;

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int16Array, Int32Array, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{Field, Schema};
use async_trait::async_trait;
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::error::Result;

use crate::catalog_provider::CatalogSource;
use crate::vector::EXTENSION_VERSION;
use types::{PG_CATALOG_OID, PUBLIC_OID};

pub const SCHEMA: &str = "pg_catalog";
/// pg_catalog's tables and views with their OIDs (PostgreSQL's own for its system catalogs).
pub(crate) const TABLES: [(&str, u32, char); 43] = [
    ("pg_type", 1247, 'r'),
    ("pg_attribute", 1249, 'r'),
    ("pg_proc", 1255, 'r'),
    ("pg_class", 1259, 'r'),
    ("pg_authid", 1260, 'r'),
    ("pg_auth_members", 1261, 'r'),
    ("pg_database", 1262, 'r'),
    ("pg_tablespace", 1213, 'r'),
    ("pg_sequence", 2224, 'r'),
    ("pg_shdescription", 2396, 'r'),
    ("pg_am", 2601, 'r'),
    ("pg_attrdef", 2604, 'r'),
    ("pg_constraint", 2606, 'r'),
    ("pg_depend", 2608, 'r'),
    ("pg_description", 2609, 'r'),
    ("pg_index", 2610, 'r'),
    ("pg_inherits", 2611, 'r'),
    ("pg_language", 2612, 'r'),
    ("pg_namespace", 2615, 'r'),
    ("pg_opclass", 2616, 'r'),
    ("pg_rewrite", 2618, 'r'),
    ("pg_trigger", 2620, 'r'),
    ("pg_extension", 3079, 'r'),
    ("pg_foreign_table", 3118, 'r'),
    ("pg_policy", 3256, 'r'),
    ("pg_partitioned_table", 3350, 'r'),
    ("pg_statistic_ext", 3381, 'r'),
    ("pg_collation", 3456, 'r'),
    ("pg_enum", 3501, 'r'),
    ("pg_range", 3541, 'r'),
    ("pg_publication", 6104, 'r'),
    ("pg_publication_rel", 6106, 'r'),
    ("pg_publication_namespace", 6237, 'r'),
    ("pg_roles", 12_001, 'v'),
    ("pg_user", 12_002, 'v'),
    ("pg_tables", 12_003, 'v'),
    ("pg_views", 12_004, 'v'),
    ("pg_indexes", 12_005, 'v'),
    ("pg_matviews", 12_008, 'v'),
    ("pg_settings", 12_010, 'v'),
    ("pg_stat_activity", 12_011, 'v'),
    ("pg_stat_progress_create_index", 12_012, 'v'),
    ("pg_stat_user_tables", 12_013, 'v'),
];
/// The bootstrap superuser's OID in PostgreSQL, owner of everything built in.
const SUPERUSER_OID: u32 = 10;
pub(crate) const INFORMATION_SCHEMA_OID: u32 = 13_000;

#[derive(Debug)]
pub struct PgCatalog {
    source: CatalogSource,
    database: String,
}

impl PgCatalog {
    pub fn new(source: CatalogSource, database: String) -> Self {
        Self { source, database }
    }

    pub fn has(name: &str) -> bool {
        TABLES.iter().any(|t| t.0 == name)
    }

    /// Tables showing the state of the moment rather than the catalog's, which a plan must not
    /// keep across executions.
    pub fn is_live(name: &str) -> bool {
        matches!(name, "pg_settings" | "pg_stat_activity" | "pg_stat_progress_create_index" | "pg_stat_user_tables")
    }

    /// Builds one of the tables, or `None` for names it does not have.
    pub async fn build(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let catalog = self.source.catalog();
        let db = self.database.as_str();
        let batch = match name {
            "pg_type" => pg_type()?,
            "pg_namespace" => pg_namespace(&catalog, db)?,
            "pg_extension" => pg_extension()?,
            "pg_indexes" => indexes::pg_indexes(&catalog, db)?,
            "pg_class" => relations::pg_class(&catalog, db)?,
            "pg_attribute" => relations::pg_attribute(&catalog, db, &self.view_columns(&catalog).await)?,
            "pg_attrdef" => relations::pg_attrdef(&catalog, db)?,
            "pg_sequence" => relations::pg_sequence(&catalog, db)?,
            "pg_depend" => relations::pg_depend(&catalog, db)?,
            "pg_index" => relations::pg_index(&catalog, db)?,
            "pg_constraint" => relations::pg_constraint(&catalog, db)?,
            "pg_am" => relations::pg_am()?,
            "pg_database" => global::pg_database(&catalog)?,
            "pg_tablespace" => global::pg_tablespace()?,
            "pg_settings" => session_views::pg_settings(&self.source.scope().lock().expect("scope lock").session)?,
            "pg_stat_activity" => {
                let (own, activity) = {
                    let scope = self.source.scope().lock().expect("scope lock");
                    (scope.session.clone(), scope.activity.clone())
                };
                let others = activity.others(own.pid);
                session_views::pg_stat_activity(&own, &others, |name| catalog.database(name).map(|d| d.oid).unwrap_or(0))?
            }
            "pg_stat_progress_create_index" => session_views::pg_stat_progress_create_index(&self.source.storage().index_builds(), &catalog)?,
            "pg_stat_user_tables" => statistics::pg_stat_user_tables(self.source.storage(), &catalog, db).await?,
            "pg_roles" | "pg_authid" => global::pg_roles(&catalog)?,
            "pg_user" => global::pg_user(&catalog)?,
            "pg_tables" => global::pg_tables(&catalog, db)?,
            "pg_views" => global::pg_views(&catalog, db)?,
            "pg_description" => descriptions::pg_description(&catalog, db)?,
            "pg_shdescription" => descriptions::pg_shdescription(&catalog)?,
            other => match global::empty_catalog(other) {
                Some(batch) => batch?,
                None => return Ok(None),
            },
        };
        Ok(Some(Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?)))
    }
}

impl PgCatalog {
    /// Each view's OID and columns (psql's `\d view`, JDBC's getColumns): as kept at CREATE
    /// VIEW, or, for a view from before they were kept, by planning it (not inside a view's own
    /// expansion, which could come back here without end; a view that no longer plans is left
    /// out).
    async fn view_columns(&self, catalog: &quartzdb_storage::Catalog) -> Vec<(u32, Vec<(String, String)>)> {
        let nested = self.source.scope().lock().expect("scope lock").view_depth > 0;
        let Ok(d) = catalog.database(&self.database) else { return Vec::new() };
        let mut out = Vec::new();
        for (sname, s) in &d.schemas {
            for (vname, v) in &s.views {
                if !v.column_types.is_empty() {
                    out.push((v.oid, v.column_types.clone()));
                    continue;
                }
                if nested {
                    continue;
                }
                match crate::view::view_provider(&self.source, &self.database, sname, vname, v).await {
                    Ok(p) => out.push((v.oid, p.schema().fields().iter().map(|f| (f.name().clone(), type_of::type_name(f))).collect())),
                    Err(e) => tracing::debug!(view = %vname, error = %e, "view left out of pg_attribute"),
                }
            }
        }
        out
    }
}

fn pg_namespace(catalog: &quartzdb_storage::Catalog, database: &str) -> Result<RecordBatch> {
    let rows = relations::namespaces(catalog, database);
    builder::Table::new(&rows)
        .oid("oid", |r| r.0)
        .text("nspname", |r| Some(r.1.clone()))
        .oid("nspowner", |_| SUPERUSER_OID)
        .text_list("nspacl", |_| None)
        .finish()
}

/// Columns of PostgreSQL's one-byte `"char"` type, which drivers decode as bytes (asyncpg
/// compares `typtype` with `b'b'`).
const CHAR_COLUMNS: [&str; 5] = ["typtype", "typcategory", "typdelim", "typalign", "typstorage"];

/// Columns of type `regproc` (a function's name).
const REGPROC_COLUMNS: [&str; 8] = ["typsubscript", "typinput", "typoutput", "typreceive", "typsend", "typmodin", "typmodout", "typanalyze"];

fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let field = |n: &str, a: &ArrayRef| {
        let f = Field::new(n, a.data_type().clone(), true);
        if CHAR_COLUMNS.contains(&n) {
            f.with_metadata(crate::types::field_metadata("\"char\""))
        } else if REGPROC_COLUMNS.contains(&n) {
            f.with_metadata(crate::types::field_metadata("regproc"))
        } else {
            f
        }
    };
    let schema = Schema::new(columns.iter().map(|(n, a)| field(n, a)).collect::<Vec<_>>());
    Ok(RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect())?)
}

fn pg_type() -> Result<RecordBatch> {
    let t = types::types();
    let n = t.len();
    let text = |f: &dyn Fn(&types::TypeRow) -> String| Arc::new(t.iter().map(|r| Some(f(r))).collect::<StringArray>()) as ArrayRef;
    let oids = |f: &dyn Fn(&types::TypeRow) -> u32| Arc::new(t.iter().map(f).collect::<UInt32Array>()) as ArrayRef;
    let io = |f: &dyn Fn(&types::TypeIo) -> &'static str| Arc::new(t.iter().map(|r| types::io(&r.name).map(f)).collect::<StringArray>()) as ArrayRef;
    let flag = |f: &dyn Fn(&types::TypeIo) -> bool| Arc::new(t.iter().map(|r| types::io(&r.name).map(f)).collect::<BooleanArray>()) as ArrayRef;
    batch(vec![
        ("oid", oids(&|r| r.oid)),
        ("typname", text(&|r| r.name.clone())),
        ("typnamespace", oids(&|r| r.namespace)),
        ("typowner", oids(&|_| SUPERUSER_OID)),
        ("typlen", Arc::new(t.iter().map(|r| r.len).collect::<Int16Array>())),
        ("typbyval", flag(&|io| io.by_value)),
        ("typtype", text(&|r| r.kind.to_string())),
        ("typcategory", text(&|r| r.category.to_string())),
        ("typispreferred", flag(&|io| io.preferred)),
        ("typisdefined", Arc::new(BooleanArray::from(vec![true; n]))),
        ("typdelim", text(&|_| ",".to_string())),
        ("typrelid", oids(&|_| 0)),
        ("typsubscript", io(&|io| io.subscript)),
        ("typelem", oids(&|r| r.elem)),
        ("typarray", oids(&|r| r.array)),
        ("typinput", io(&|io| io.input)),
        ("typoutput", io(&|io| io.output)),
        ("typreceive", io(&|io| io.receive)),
        ("typsend", io(&|io| io.send)),
        ("typmodin", io(&|io| io.modifier_in)),
        ("typmodout", io(&|io| io.modifier_out)),
        ("typanalyze", io(&|io| io.analyze)),
        ("typalign", io(&|io| io.align)),
        ("typstorage", io(&|io| io.storage)),
        ("typnotnull", Arc::new(BooleanArray::from(vec![false; n]))),
        ("typbasetype", oids(&|_| 0)),
        ("typtypmod", Arc::new(Int32Array::from(vec![-1; n]))),
        ("typndims", Arc::new(Int32Array::from(vec![0; n]))),
        ("typcollation", oids(&|r| if r.category == 'S' { 100 } else { 0 })),
        ("typdefaultbin", Arc::new(StringArray::from(vec![None::<&str>; n]))),
        ("typdefault", Arc::new(StringArray::from(vec![None::<&str>; n]))),
        ("typacl", Arc::new(StringArray::from(vec![None::<&str>; n]))),
    ])
}

/// pgvector is always installed; `plpgsql` is listed because every PostgreSQL has it.
fn pg_extension() -> Result<RecordBatch> {
    let rows = [(13_001u32, "plpgsql", PG_CATALOG_OID, "1.0"), (16_391, "vector", PUBLIC_OID, EXTENSION_VERSION)];
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
        TABLES.iter().map(|t| t.0.to_string()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.build(name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        Self::has(name)
    }
}
