//! DataFusion's view of QuartzDB's catalog: one `CatalogProvider` per database, whose schemas
//! resolve table names to Lance-backed tables at their committed versions, and views to plans.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::Result as DfResult;
use quartzdb_storage::{LanceTable, QualifiedName, Storage};

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
}

#[derive(Debug)]
pub struct QuartzCatalog {
    storage: Arc<Storage>,
    database: String,
    scope: Arc<Mutex<PlanningScope>>,
}

impl QuartzCatalog {
    pub fn new(storage: Arc<Storage>, database: String, scope: Arc<Mutex<PlanningScope>>) -> Self {
        Self { storage, database, scope }
    }
}

impl CatalogProvider for QuartzCatalog {
    fn schema_names(&self) -> Vec<String> {
        let catalog = self.storage.catalog();
        let mut names: Vec<String> = catalog.database(&self.database).map(|d| d.schemas.keys().cloned().collect()).unwrap_or_default();
        names.push(pg_catalog::SCHEMA.to_string());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == pg_catalog::SCHEMA {
            return Some(Arc::new(PgCatalog::new(self.storage.clone(), self.database.clone())));
        }
        let catalog = self.storage.catalog();
        catalog.schema(&self.database, name).ok()?;
        Some(Arc::new(QuartzSchema {
            storage: self.storage.clone(),
            database: self.database.clone(),
            schema: name.to_string(),
            scope: self.scope.clone(),
        }))
    }
}

#[derive(Debug)]
pub struct QuartzSchema {
    storage: Arc<Storage>,
    database: String,
    schema: String,
    scope: Arc<Mutex<PlanningScope>>,
}

#[async_trait]
impl SchemaProvider for QuartzSchema {
    fn table_names(&self) -> Vec<String> {
        let catalog = self.storage.catalog();
        match catalog.schema(&self.database, &self.schema) {
            Ok(s) => s.tables.keys().chain(s.views.keys()).cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let catalog = self.storage.catalog();
        let Ok(schema) = catalog.schema(&self.database, &self.schema) else { return Ok(None) };
        let qname = QualifiedName::new(&self.schema, name);
        if let Some(meta) = schema.tables.get(name) {
            let dataset = self.storage.dataset(meta).await.map_err(crate::Error::from)?;
            let (with_row_addr, search) = {
                let scope = self.scope.lock().expect("scope lock");
                (scope.dml_target.as_ref() == Some(&qname), scope.search.clone())
            };
            let table = LanceTable::new(dataset, meta.oid, with_row_addr, self.storage.scan_cache().clone()).with_indexes(meta.indexes.clone(), search, self.storage.direct_cache().clone());
            return Ok(Some(Arc::new(table)));
        }
        if let Some(view) = schema.views.get(name) {
            return Ok(Some(crate::view::view_provider(&self.storage, &self.database, &self.schema, name, view).await?));
        }
        // PostgreSQL searches pg_catalog implicitly.
        PgCatalog::new(self.storage.clone(), self.database.clone()).build(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        let catalog = self.storage.catalog();
        catalog
            .schema(&self.database, &self.schema)
            .map(|s| s.tables.contains_key(name) || s.views.contains_key(name))
            .unwrap_or(false)
            || PgCatalog::has(name)
    }
}
