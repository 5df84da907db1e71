//! DataFusion's view of QuartzDB's catalog: one `CatalogProvider` per database, whose schemas
//! resolve table names to Lance-backed tables at their committed versions, and views to plans.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::Result as DfResult;
use quartzdb_storage::{Catalog, Dataset, LanceTable, QualifiedName, Storage, TableMeta, TxnView};

use crate::pg_catalog::{self, PgCatalog};

/// Per-session state the providers and analyzer rules consult while one statement is planned.
#[derive(Debug, Default)]
pub struct PlanningScope {
    /// The table a DML statement targets: it is exposed with its `_rowaddr` column.
    pub dml_target: Option<QualifiedName>,
    /// The session's vector search settings, given to the tables the statement reads.
    pub search: quartzdb_storage::ann::SearchSettings,
    /// The session's `TimeZone`, for date/time casts.
    pub time_zone: chrono_tz::Tz,
    /// The session's open writing transaction, whose own changes its statements see.
    pub txn: Option<Arc<TxnView>>,
    /// What `pg_settings`, `current_setting` and `pg_stat_activity` show of the session.
    pub session: crate::pg_catalog::session_views::SessionSnapshot,
    /// The server's sessions.
    pub activity: Arc<crate::activity::Activity>,
    /// How many views deep this planning is (0 for a statement's own): bounds expansion of
    /// views that reach themselves, and keeps catalog tables that plan views from recursing.
    pub view_depth: usize,
}

/// Where a session reads the catalog and tables: its open transaction's view when it has one
/// (its own uncommitted changes included), else the published catalog.
#[derive(Debug, Clone)]
pub struct CatalogSource {
    storage: Arc<Storage>,
    scope: Arc<Mutex<PlanningScope>>,
}

impl CatalogSource {
    pub fn new(storage: Arc<Storage>, scope: Arc<Mutex<PlanningScope>>) -> Self {
        Self { storage, scope }
    }

    pub fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }

    pub fn scope(&self) -> &Arc<Mutex<PlanningScope>> {
        &self.scope
    }

    pub fn txn(&self) -> Option<Arc<TxnView>> {
        self.scope.lock().expect("scope lock").txn.clone()
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        match self.txn() {
            Some(view) => view.catalog(),
            None => self.storage.catalog(),
        }
    }

    /// The table's dataset, and whether it is an uncommitted version of this session's.
    pub async fn dataset(&self, meta: &TableMeta) -> quartzdb_storage::Result<(Arc<Dataset>, bool)> {
        self.storage.dataset_in(self.txn().as_deref(), meta).await
    }
}

#[derive(Debug)]
pub struct QuartzCatalog {
    source: CatalogSource,
    database: String,
}

impl QuartzCatalog {
    pub fn new(source: CatalogSource, database: String) -> Self {
        Self { source, database }
    }
}

impl CatalogProvider for QuartzCatalog {
    fn schema_names(&self) -> Vec<String> {
        let catalog = self.source.catalog();
        let mut names: Vec<String> = catalog.database(&self.database).map(|d| d.schemas.keys().cloned().collect()).unwrap_or_default();
        names.push(pg_catalog::SCHEMA.to_string());
        names.push(pg_catalog::information_schema::SCHEMA.to_string());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == pg_catalog::SCHEMA {
            return Some(Arc::new(PgCatalog::new(self.source.clone(), self.database.clone())));
        }
        if name == pg_catalog::information_schema::SCHEMA {
            return Some(Arc::new(pg_catalog::information_schema::InformationSchema::new(self.source.clone(), self.database.clone())));
        }
        self.source.catalog().schema(&self.database, name).ok()?;
        Some(Arc::new(QuartzSchema { source: self.source.clone(), database: self.database.clone(), schema: name.to_string() }))
    }
}

#[derive(Debug)]
pub struct QuartzSchema {
    source: CatalogSource,
    database: String,
    schema: String,
}

#[async_trait]
impl SchemaProvider for QuartzSchema {
    fn table_names(&self) -> Vec<String> {
        let catalog = self.source.catalog();
        match catalog.schema(&self.database, &self.schema) {
            Ok(s) => s.tables.keys().chain(s.views.keys()).cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let catalog = self.source.catalog();
        let Ok(schema) = catalog.schema(&self.database, &self.schema) else { return Ok(None) };
        let qname = QualifiedName::new(&self.schema, name);
        if let Some(meta) = schema.tables.get(name) {
            let (dataset, uncommitted) = self.source.dataset(meta).await.map_err(crate::Error::from)?;
            let (with_row_addr, search) = {
                let scope = self.source.scope().lock().expect("scope lock");
                (scope.dml_target.as_ref() == Some(&qname), scope.search.clone())
            };
            let storage = self.source.storage();
            // An uncommitted version's columns stay out of the shared scan cache.
            let cache = if uncommitted { quartzdb_storage::scan_cache::ScanCache::disabled() } else { storage.scan_cache().clone() };
            let table = LanceTable::new(dataset, meta.oid, with_row_addr, cache).with_indexes(meta.indexes.clone(), search, storage.direct_cache().clone());
            return Ok(Some(Arc::new(table)));
        }
        if let Some(view) = schema.views.get(name) {
            return Ok(Some(crate::view::view_provider(&self.source, &self.database, &self.schema, name, view).await?));
        }
        // PostgreSQL searches pg_catalog implicitly.
        PgCatalog::new(self.source.clone(), self.database.clone()).build(name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        let catalog = self.source.catalog();
        catalog
            .schema(&self.database, &self.schema)
            .map(|s| s.tables.contains_key(name) || s.views.contains_key(name))
            .unwrap_or(false)
            || PgCatalog::has(name)
    }
}
