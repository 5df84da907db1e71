//! Searching a vector index directly, without Lance's scanner.
//!
//! Lance's `Scanner::nearest` plans a DataFusion graph for every query (partition finding, sub-index
//! search, sort, take, union with a flat search of unindexed fragments), which costs
//! milliseconds of planning and thread hand-offs around microseconds of search. When the
//! index covers every fragment, QuartzDB does the same steps itself: the opened index (kept warm
//! by the shared Lance session) ranks its partitions, the nearest `nprobes` are searched one
//! after another (and further ones until there are enough candidates), the candidates are
//! merged, and only their rows are read: from the scan cache's decoded columns when it holds
//! them (loaded in the background after the first search of a table version), else from the
//! files. Deleted rows are masked out by Lance's own deletion prefilter; a filter's rows, when
//! evaluated from memory ([`crate::ann_filter`]), are the prefilter instead.
//!
//! Candidate distances here are the index's (squared L2, `1 - dot`, quantized for SQ/PQ); the
//! Sort above the scan re-ranks the candidates by the exact distance, so asking for
//! `k × refine_factor` candidates is the refine step.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use lance_index::vector::VectorIndex;

use crate::scan_cache::{ScanCache, ScanKey};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Field, Float32Type, SchemaRef, UInt64Type};
use datafusion::error::{DataFusionError, Result};
use lance::dataset::Dataset;
use lance::dataset::ProjectionRequest;
use lance::index::DatasetIndexInternalExt;
use lance::index::prefilter::DatasetPreFilter;
use lance_index::metrics::NoOpMetricsCollector;
use lance_index::prefilter::{NoFilter, PreFilter};
use lance_index::vector::Query;
use lance_linalg::distance::DistanceType;
use lance_table::format::IndexMetadata;

/// What direct searches keep between queries: opened indexes (by segment id, which never
/// changes meaning) and which column loads into the scan cache are under way.
#[derive(Default)]
pub struct DirectCache {
    indexes: Mutex<HashMap<uuid::Uuid, Arc<dyn VectorIndex>>>,
    loading: Mutex<HashSet<ScanKey>>,
}

impl std::fmt::Debug for DirectCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectCache").finish_non_exhaustive()
    }
}

/// Opened indexes kept at most; past it the map starts over (dropped indexes leave entries).
const MAX_OPEN_INDEXES: usize = 64;

impl DirectCache {
    async fn index(&self, dataset: &Dataset, column: &str, segment: &IndexMetadata) -> Result<Arc<dyn VectorIndex>> {
        if let Some(index) = self.indexes.lock().expect("index cache").get(&segment.uuid) {
            return Ok(index.clone());
        }
        let index = dataset.open_vector_index(column, &segment.uuid, &NoOpMetricsCollector).await.map_err(lance_err)?;
        let mut indexes = self.indexes.lock().expect("index cache");
        if indexes.len() >= MAX_OPEN_INDEXES {
            indexes.clear();
        }
        indexes.insert(segment.uuid, index.clone());
        Ok(index)
    }
}

/// One direct search, planned: everything but the query's work.
#[derive(Debug)]
pub(crate) struct DirectSearch {
    pub cache: Arc<DirectCache>,
    pub scan_cache: Arc<ScanCache>,
    /// The table's OID, for scan-cache keys.
    pub table: u32,
    /// Index in the dataset's schema of each output column.
    pub column_indexes: Vec<usize>,
    pub dataset: Arc<Dataset>,
    /// The index's segments (a build and the deltas folded in since).
    pub segments: Vec<IndexMetadata>,
    pub column: String,
    /// The query vector, evaluated when the search runs.
    pub query: Arc<dyn datafusion::physical_expr::PhysicalExpr>,
    /// The indexed column's dimension.
    pub dims: usize,
    pub metric: DistanceType,
    /// Candidates returned: k × refine factor.
    pub candidates: usize,
    pub nprobes: usize,
    pub ef: Option<usize>,
    /// Output schema: the columns the plan above reads, in order.
    pub schema: SchemaRef,
    /// The rows a pushed-down filter keeps, when there is one.
    pub filter: Option<Arc<crate::ann_filter::RowFilter>>,
}

fn lance_err(e: lance::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Whether the direct path can answer for `dataset`: the index covers every fragment.
pub(crate) async fn covers_all(dataset: &Dataset, index_name: &str) -> Result<Option<Vec<IndexMetadata>>> {
    if !dataset.unindexed_fragments(index_name).await.map_err(lance_err)?.is_empty() {
        return Ok(None);
    }
    let segments: Vec<IndexMetadata> = lance::index::DatasetIndexExt::load_indices_by_name(dataset, index_name).await.map_err(lance_err)?;
    Ok((!segments.is_empty()).then_some(segments))
}

impl DirectSearch {
    /// True when rows the index holds may be gone: deletion vectors, or whole fragments removed.
    fn needs_deletion_mask(&self) -> bool {
        let fragments = self.dataset.get_fragments();
        if fragments.iter().any(|f| f.metadata().deletion_file.is_some()) {
            return true;
        }
        let live: std::collections::HashSet<u32> = fragments.iter().map(|f| f.id() as u32).collect();
        self.segments.iter().any(|s| s.fragment_bitmap.as_ref().is_some_and(|b| b.iter().any(|id| !live.contains(&id))))
    }

    pub async fn run(&self) -> Result<RecordBatch> {
        let started = std::time::Instant::now();
        let query = match crate::ann::evaluate_query(&self.query)? {
            Some(q) if q.len() == self.dims => q,
            // The plan is reused only after `VectorIndexScanExec::rebindable` checked the values.
            _ => return Err(DataFusionError::Internal("direct vector search without a query of the index's dimension".into())),
        };
        let key = if self.metric == DistanceType::Cosine {
            lance_linalg::kernels::normalize_arrow(query.as_ref()).map_err(|e| DataFusionError::External(Box::new(e)))?.0
        } else {
            query
        };
        let mut query = Query {
            column: self.column.clone(),
            key,
            k: self.candidates,
            lower_bound: None,
            upper_bound: None,
            minimum_nprobes: self.nprobes,
            // Partitions in centroid order, all of them: the search goes on past `nprobes` until
            // it has its candidates (a filter or deleted rows may leave the first ones short).
            maximum_nprobes: None,
            search_effort: 0.0,
            ef: self.ef.map(|ef| ef.max(self.candidates)),
            refine_factor: None,
            metric_type: Some(self.metric),
            use_index: true,
            query_parallelism: 1,
            dist_q_c: 0.0,
            approx_mode: Default::default(),
        };
        // A row filter also drops rows of fragments removed since the build (there are no
        // deletion files when there is one).
        let prefilter: Arc<dyn PreFilter> = if let Some(filter) = &self.filter {
            filter.clone()
        } else if self.needs_deletion_mask() {
            let mut mask = DatasetPreFilter::new(self.dataset.clone(), &self.segments, None);
            PreFilter::wait_for_ready(&mut mask).await.map_err(lance_err)?;
            Arc::new(mask)
        } else {
            Arc::new(NoFilter)
        };
        let mut candidates: Vec<(f32, u64)> = Vec::new();
        for segment in &self.segments {
            let index = self.cache.index(&self.dataset, &self.column, segment).await?;
            let (partitions, centroid_distances) = index.find_partitions(&query).map_err(lance_err)?;
            for i in 0..partitions.len() {
                if i >= self.nprobes && candidates.len() >= self.candidates {
                    break;
                }
                query.dist_q_c = centroid_distances.value(i);
                let batch = index
                    .search_in_partition(partitions.value(i) as usize, &query, prefilter.clone(), &NoOpMetricsCollector)
                    .await
                    .map_err(lance_err)?;
                let (Some(d), Some(r)) = (batch.column_by_name(lance_index::vector::DIST_COL), batch.column_by_name("_rowid")) else {
                    return Err(DataFusionError::Internal("vector index result without distances or row ids".into()));
                };
                let (d, r) = (d.as_primitive::<Float32Type>(), r.as_primitive::<UInt64Type>());
                candidates.extend((0..batch.num_rows()).filter(|j| !d.is_null(*j)).map(|j| (d.value(j), r.value(j))));
            }
        }
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        candidates.dedup_by_key(|c| c.1);
        candidates.truncate(self.candidates);
        let searched = started.elapsed();
        let ids: Vec<u64> = candidates.iter().map(|c| c.1).collect();
        let columns = match self.from_memory(&ids)? {
            Some(columns) => columns,
            None => self.take(&ids).await?,
        };
        tracing::debug!(search_us = searched.as_micros() as u64, fetch_us = (started.elapsed() - searched).as_micros() as u64, rows = ids.len(), "direct vector search");
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &RecordBatchOptions::new().with_row_count(Some(ids.len())))?)
    }

    /// The rows, read from the dataset's files.
    async fn take(&self, ids: &[u64]) -> Result<Vec<ArrayRef>> {
        let names: Vec<&str> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
        let projection = self.dataset.schema().project(&names).map_err(lance_err)?;
        let rows = self.dataset.take_rows(ids, ProjectionRequest::from_schema(projection)).await.map_err(lance_err)?;
        self.schema
            .fields()
            .iter()
            .map(|f| rows.column_by_name(f.name()).cloned().ok_or_else(|| DataFusionError::Internal(format!("row fetch lost column {}", f.name()))))
            .collect()
    }

    /// The rows, gathered from the columns the scan cache holds for this version; `None` when
    /// a column is not cached yet (its load is then started in the background) or the table
    /// has deleted rows (a row address then no longer says where the row is in a scan).
    fn from_memory(&self, ids: &[u64]) -> Result<Option<Vec<ArrayRef>>> {
        let fragments = self.dataset.get_fragments();
        if fragments.iter().any(|f| f.metadata().deletion_file.is_some()) {
            return Ok(None);
        }
        let mut starts = HashMap::new();
        let mut total = 0usize;
        for f in &fragments {
            let Some(rows) = f.metadata().physical_rows else { return Ok(None) };
            starts.insert(f.id() as u64, total);
            total += rows;
        }
        let version = self.dataset.version().version;
        let mut out = Vec::with_capacity(self.column_indexes.len());
        let mut missing = Vec::new();
        for (i, &column) in self.column_indexes.iter().enumerate() {
            // Single columns under their own keys (`MAX - index`), apart from the multi-column
            // scans of table providers, so that any projection can be assembled from them.
            let key = ScanKey { table: self.table, version, columns: vec![usize::MAX - column] };
            match self.scan_cache.get(&key) {
                Some(batches) => out.push(batches),
                None => missing.push((key, self.schema.field(i).clone())),
            }
        }
        if !missing.is_empty() {
            load_in_background(&self.cache, &self.scan_cache, &self.dataset, missing, total);
            return Ok(None);
        }
        let mut positions = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(start) = starts.get(&(id >> 32)) else { return Ok(None) };
            positions.push(start + (*id & 0xffff_ffff) as usize);
        }
        let mut columns = Vec::with_capacity(out.len());
        for batches in out {
            let mut ends = Vec::with_capacity(batches.len());
            let mut end = 0;
            for b in batches.iter() {
                end += b.num_rows();
                ends.push(end);
            }
            if end != total {
                return Ok(None);
            }
            let picks: Vec<(usize, usize)> = positions
                .iter()
                .map(|p| {
                    let b = ends.partition_point(|e| e <= p);
                    (b, p - (ends[b] - batches[b].num_rows()))
                })
                .collect();
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(0).as_ref()).collect();
            columns.push(arrow::compute::interleave(&arrays, &picks)?);
        }
        Ok(Some(columns))
    }
}

/// Decodes whole columns into the scan cache (once per version and column), in the background,
/// so that later searches read them from memory: `missing` pairs each column's single-column
/// key (`usize::MAX - index`) with its field.
pub(crate) fn load_in_background(cache: &Arc<DirectCache>, scan_cache: &Arc<ScanCache>, dataset: &Arc<Dataset>, missing: Vec<(ScanKey, Field)>, rows: usize) {
    for (key, field) in missing {
        let width = crate::lance_table::estimated_width(field.data_type());
        if !scan_cache.admits(rows * width) || !cache.loading.lock().expect("loading set").insert(key.clone()) {
            continue;
        }
        let (dataset, cache, scan_cache, name) = (dataset.clone(), cache.clone(), scan_cache.clone(), field.name().clone());
        tokio::spawn(async move {
            let loaded: lance::Result<Vec<RecordBatch>> = async {
                let mut scan = dataset.scan();
                scan.project(&[name.as_str()])?;
                scan.scan_in_order(true);
                scan.try_into_stream().await?.try_collect().await
            }
            .await;
            match loaded {
                Ok(batches) => scan_cache.insert(key.clone(), Arc::new(batches)),
                Err(e) => tracing::warn!(column = %name, error = %e, "could not load a column for vector search"),
            }
            cache.loading.lock().expect("loading set").remove(&key);
        });
    }
}
