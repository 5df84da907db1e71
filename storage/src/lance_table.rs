//! A table as DataFusion sees it: Lance's table provider at the published version, with filter
//! pushdown made safe.
//!
//! Lance's provider claims every filter as `Exact` and translates it into its own scan filter.
//! QuartzDB offers only filters Lance evaluates like PostgreSQL does (comparisons of columns and
//! constants, AND/OR/NOT, IS NULL, IN lists, BETWEEN) and marks them `Inexact`, so DataFusion
//! re-checks them: a filter Lance reads differently can cost speed, never correctness.
//!
//! Scans of plain tables go through the [`ScanCache`]: the projected columns of a version are
//! decoded once and then served from memory, split across DataFusion's partitions so every core
//! works on them; pushed filters are then left to DataFusion (they are `Inexact` anyway).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use lance::dataset::Dataset;
use lance::datafusion::LanceTableProvider;

use crate::ann::{AnnQuery, SearchSettings};
use crate::catalog::IndexMeta;
use crate::index_spec::Metric;
use crate::scan_cache::{ScanCache, ScanKey};

#[derive(Debug, Clone)]
pub struct LanceTable {
    inner: Arc<LanceTableProvider>,
    /// The inner provider's schema as SQL sees it (stored encodings decoded).
    schema: SchemaRef,
    dataset: Arc<Dataset>,
    table: u32,
    /// `None` for scans that need row addresses (UPDATE, DELETE): those always read Lance.
    cache: Option<Arc<ScanCache>>,
    /// The table's indexes, for the planner's ANN rule.
    indexes: Arc<Vec<IndexMeta>>,
    /// The session's search settings at planning time.
    search: SearchSettings,
    /// Set by the ANN rule: this scan returns the k nearest rows instead of all.
    ann: Option<AnnQuery>,
    /// Opened vector indexes, shared by the whole server.
    direct: Arc<crate::ann_direct::DirectCache>,
}

impl LanceTable {
    /// `with_row_addr` adds the `_rowaddr` column (last), which UPDATE and DELETE use to find rows.
    pub fn new(dataset: Arc<Dataset>, table: u32, with_row_addr: bool, cache: Arc<ScanCache>) -> Self {
        let inner = Arc::new(LanceTableProvider::new(dataset.clone(), false, with_row_addr));
        Self {
            schema: Arc::new(crate::encoding::sql_schema(&inner.schema())),
            inner,
            dataset,
            table,
            cache: (!with_row_addr).then_some(cache),
            indexes: Arc::new(Vec::new()),
            search: SearchSettings::default(),
            ann: None,
            direct: Default::default(),
        }
    }

    /// The table's OID in the catalog.
    pub fn table_oid(&self) -> u32 {
        self.table
    }

    /// Makes the table's indexes and the session's search settings known to the ANN rule.
    pub fn with_indexes(mut self, indexes: Vec<IndexMeta>, search: SearchSettings, direct: Arc<crate::ann_direct::DirectCache>) -> Self {
        self.indexes = Arc::new(indexes);
        self.search = search;
        self.direct = direct;
        self
    }

    /// The vector index on `column` that orders by `metric`, if there is one.
    pub fn vector_index(&self, column: &str, metric: Metric) -> Option<&IndexMeta> {
        if !self.search.use_indexes {
            return None;
        }
        self.indexes.iter().find(|i| i.column == column && i.metric == Some(metric))
    }

    /// This table with each `$n` in its ANN query replaced by `value($n)`, or `None` when it has none.
    pub fn bind_query(&self, value: &dyn Fn(&datafusion::logical_expr::expr::Placeholder) -> Result<Expr>) -> Result<Option<Self>> {
        let Some(ann) = &self.ann else { return Ok(None) };
        let bound = ann.query.clone().transform(|e| match e {
            Expr::Placeholder(p) => Ok(datafusion::common::tree_node::Transformed::yes(value(&p)?)),
            other => Ok(datafusion::common::tree_node::Transformed::no(other)),
        })?;
        if !bound.transformed {
            return Ok(None);
        }
        let ann = AnnQuery { query: bound.data, ..ann.clone() };
        Ok(Some(Self { ann: Some(ann), ..self.clone() }))
    }

    /// Whether the ANN rule already rewrote this scan.
    pub fn is_ann(&self) -> bool {
        self.ann.is_some()
    }

    /// This table scanned for the `k` rows nearest `query` through `index`.
    pub fn nearest(&self, index: &IndexMeta, metric: Metric, query: Expr, k: usize) -> Self {
        let ann = AnnQuery { index: index.clone(), metric, query, k, settings: self.search.clone() };
        Self { ann: Some(ann), ..self.clone() }
    }

    /// The decoded columns of this version, from the cache or read now and cached; `None` when
    /// the scan is too large to cache.
    async fn cached(&self, state: &dyn Session, cache: &ScanCache, columns: Vec<usize>) -> Result<Option<Arc<Vec<RecordBatch>>>> {
        let key = ScanKey { table: self.table, version: self.dataset.version().version, columns };
        if let Some(batches) = cache.get(&key) {
            return Ok(Some(batches));
        }
        let rows = self.dataset.count_rows(None).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
        let schema = self.inner.schema();
        let width: usize = key.columns.iter().map(|i| estimated_width(schema.field(*i).data_type())).sum();
        if !cache.admits(rows * width) {
            return Ok(None);
        }
        let projection = key.columns.clone();
        let plan = self.inner.scan(state, Some(&projection), &[], None).await?;
        let batches = Arc::new(datafusion::physical_plan::collect(plan, state.task_ctx()).await?);
        cache.insert(key, batches.clone());
        Ok(Some(batches))
    }
}

/// Bytes per row a column is expected to take once decoded.
pub(crate) fn estimated_width(t: &DataType) -> usize {
    match t {
        DataType::FixedSizeList(f, n) => estimated_width(f.data_type()) * (*n as usize),
        t => t.primitive_width().unwrap_or(32),
    }
}

#[async_trait]
impl TableProvider for LanceTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, filters: &[Expr], limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        // Every path below yields the stored columns; SQL gets them decoded.
        Ok(crate::encoding::decode_plan(self.stored_scan(state, projection, filters, limit).await?))
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let schema = self.inner.schema();
        let encoded = |e: &Expr| e.column_refs().iter().any(|c| schema.field_with_name(&c.name).is_ok_and(|f| crate::encoding::is_encoded(f)));
        Ok(filters
            .iter()
            .map(|f| if pushable(f) && !encoded(f) { TableProviderFilterPushDown::Inexact } else { TableProviderFilterPushDown::Unsupported })
            .collect())
    }
}

impl LanceTable {
    async fn stored_scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, filters: &[Expr], limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(ann) = &self.ann {
            let schema = match projection {
                Some(p) => Arc::new(self.inner.schema().project(p)?),
                None => self.inner.schema(),
            };
            let cx = crate::ann::ScanContext {
                table: self.table,
                projection: projection.cloned().unwrap_or_else(|| (0..self.inner.schema().fields().len()).collect()),
                direct: self.direct.clone(),
                scan_cache: self.cache.clone().unwrap_or_else(ScanCache::disabled),
            };
            match crate::ann::plan(&self.dataset, schema.clone(), state, ann, filters, cx).await? {
                crate::ann::AnnPlan::Index(plan) => return Ok(plan),
                crate::ann::AnnPlan::Exact { rows, filtered } => {
                    let plain = self.plain_scan(state, projection, filters, limit).await?;
                    return Ok(crate::ann::exact_scan(ann, plain, schema, rows, filtered));
                }
                crate::ann::AnnPlan::Plain => {}
            }
        }
        self.plain_scan(state, projection, filters, limit).await
    }

    /// The table's rows: from the scan cache when it holds (or takes) them, else from Lance.
    async fn plain_scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, filters: &[Expr], limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        // A scan with a limit reads little from Lance; it uses what is cached but fills nothing.
        if let Some(cache) = &self.cache {
            let columns = projection.cloned().unwrap_or_else(|| (0..self.inner.schema().fields().len()).collect());
            let schema = Arc::new(self.inner.schema().project(&columns)?);
            let batches = match limit {
                None => self.cached(state, cache, columns).await?,
                Some(_) => cache.get(&ScanKey { table: self.table, version: self.dataset.version().version, columns }),
            };
            if let Some(batches) = batches {
                // Round-robin over the partitions DataFusion runs in parallel.
                let n = state.config().target_partitions().max(1);
                let mut partitions = vec![Vec::new(); n];
                for (i, b) in batches.iter().enumerate() {
                    partitions[i % n].push(b.clone());
                }
                let source = MemorySourceConfig::try_new(&partitions, schema, None)?.with_limit(limit);
                return Ok(DataSourceExec::from_data_source(source));
            }
        }
        self.inner.scan(state, projection, filters, limit).await
    }
}

/// True for filters built only from columns, literals and simple operators.
fn pushable(expr: &Expr) -> bool {
    let mut ok = true;
    let _ = expr.apply(|e| {
        ok &= matches!(
            e,
            Expr::Column(_)
                | Expr::Literal(..)
                | Expr::BinaryExpr(_)
                | Expr::Not(_)
                | Expr::IsNull(_)
                | Expr::IsNotNull(_)
                | Expr::Between(_)
                | Expr::InList(_)
                | Expr::Placeholder(_)
        ) && !matches!(e, Expr::BinaryExpr(b) if !simple_operator(b.op));
        Ok(if ok { TreeNodeRecursion::Continue } else { TreeNodeRecursion::Stop })
    });
    ok
}

fn simple_operator(op: Operator) -> bool {
    use Operator::*;
    matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | And | Or)
}
