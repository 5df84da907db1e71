//! The ANN scan: the k rows nearest a constant query vector, found through a Lance vector index.
//!
//! The planner's rule hands a table an [`AnnQuery`] when `ORDER BY <distance>(col, q) LIMIT k`
//! sits above its scan and an index of the same metric covers `col`. The scan then asks Lance's
//! scanner for the k nearest rows (Lance searches fragments written after the index was built
//! exactly, and skips deleted rows); the Sort and Limit above it stay, and recompute the
//! distance with QuartzDB's own functions, so values and order are pgvector's.
//!
//! Pushed-down filters become prefilters, and the search widens until k matching rows are
//! found: the filter's rows evaluated from the scan cache ([`crate::ann_filter`]) for a direct
//! search of the index, or Lance's own prefilter through its scanner while the filter's
//! columns are not cached (or the table has deleted rows). When few rows match, an exact search
//! over them is cheaper and exact; the choice is made by counting the matching rows: at most
//! [`SearchSettings::exact_below`], or fewer than the vectors the widened index search would
//! compare ([`filtered_index_work`]) when the table's columns fit the scan cache. Tables of at most `exact_below` rows are searched
//! exactly too. Exact searches are the plan above over the table's plain scan (served by the
//! scan cache), labelled for EXPLAIN by this scan node.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties};
use futures::StreamExt;
use lance::dataset::Dataset;

use crate::ann_direct::DirectSearch;
use crate::catalog::IndexMeta;
use crate::index_spec::{IndexMethod, Metric};

/// Search settings of the session (pgvector's and QuartzDB's); `None` leaves the choice to the
/// index's defaults, which aim at recall 0.95 or more.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// `enable_indexscan`: off makes every search exact.
    pub use_indexes: bool,
    /// `hnsw.ef_search`: candidates kept while walking a graph.
    pub ef_search: Option<usize>,
    /// `ivfflat.probes`: IVF partitions searched (at least; more when a filter needs them).
    pub probes: Option<usize>,
    /// `quartz.nprobes`: partitions searched by any IVF-based index; wins over `ivfflat.probes`.
    pub nprobes: Option<usize>,
    /// `quartz.refine_factor`: fetch k × this many candidates and re-rank them exactly.
    pub refine_factor: Option<u32>,
    /// `quartz.exact_search_below`: a table, or a filter, of at most this many rows is searched
    /// exactly; so is a filter whose exact search costs less than the index's, unless this is 0.
    pub exact_below: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self { use_indexes: true, ef_search: None, probes: None, nprobes: None, refine_factor: None, exact_below: DEFAULT_EXACT_BELOW }
    }
}

/// Default of [`SearchSettings::exact_below`].
pub const DEFAULT_EXACT_BELOW: usize = 10_000;
/// Default `ef` for graph indexes when `hnsw.ef_search` is not set.
pub const DEFAULT_EF_SEARCH: usize = 40;

/// A nearest-neighbour request the planner attached to a table scan.
#[derive(Debug, Clone)]
pub struct AnnQuery {
    pub index: IndexMeta,
    pub metric: Metric,
    /// The query vector: an expression without columns, evaluated when the scan is planned.
    pub query: Expr,
    /// Rows wanted: the LIMIT plus the OFFSET above.
    pub k: usize,
    pub settings: SearchSettings,
}

/// How one ANN scan was planned, for EXPLAIN.
#[derive(Debug, Clone)]
struct Strategy {
    index: String,
    method: IndexMethod,
    metric: Metric,
    k: usize,
    exact: Option<u64>,
    nprobes: Option<usize>,
    ef: Option<usize>,
    refine: Option<u32>,
    filtered: bool,
    /// Searched by QuartzDB itself ([`crate::ann_direct`]) rather than Lance's scanner.
    direct: bool,
}

impl Strategy {
    /// An exact search of `rows` rows, or (`exact: None`) an index search to fill in.
    fn new(ann: &AnnQuery, exact: Option<u64>, filtered: bool) -> Self {
        Self {
            index: ann.index.name.clone(),
            method: ann.index.method,
            metric: ann.metric,
            k: ann.k,
            exact,
            nprobes: None,
            ef: None,
            refine: None,
            filtered,
            direct: false,
        }
    }
}

/// Where the scan's rows come from.
#[derive(Debug, Clone)]
enum Source {
    /// Lance's scanner plan (filters, unindexed fragments, exact search).
    Lance(Arc<dyn ExecutionPlan>),
    /// The index searched directly.
    Direct(Arc<DirectSearch>),
}

/// What the table provider hands an ANN scan besides the query.
pub(crate) struct ScanContext {
    pub table: u32,
    /// The output columns' indexes in the dataset's schema.
    pub projection: Vec<usize>,
    pub direct: Arc<crate::ann_direct::DirectCache>,
    pub scan_cache: Arc<crate::scan_cache::ScanCache>,
}

/// What an ANN scan becomes.
pub(crate) enum AnnPlan {
    /// Searched through the index (or Lance's scanner).
    Index(Arc<dyn ExecutionPlan>),
    /// Searched exactly by the plan above over the table's plain scan (from the scan cache): a
    /// small table, or a filter that keeps few rows. Wrap the plain scan with [`exact_scan`].
    Exact { rows: u64, filtered: bool },
    /// Not an ANN scan after all (a NULL query, a dimension mismatch the exact path reports).
    Plain,
}

/// The plain scan of an exact search, labelled for EXPLAIN.
pub(crate) fn exact_scan(ann: &AnnQuery, plain: Arc<dyn ExecutionPlan>, schema: SchemaRef, rows: u64, filtered: bool) -> Arc<dyn ExecutionPlan> {
    Arc::new(VectorIndexScanExec::new(Source::Lance(plain), schema, Strategy::new(ann, Some(rows), filtered)))
}

pub(crate) async fn plan(dataset: &Arc<Dataset>, schema: SchemaRef, state: &dyn Session, ann: &AnnQuery, filters: &[Expr], cx: ScanContext) -> Result<AnnPlan> {
    let (query_expr, query) = query_values(state, &ann.query)?;
    let Some(query) = query else { return Ok(AnnPlan::Plain) };
    let column_dims = match dataset_field_type(dataset, &ann.index.column) {
        Some(DataType::FixedSizeList(_, n)) => n as usize,
        _ => return Ok(AnnPlan::Plain),
    };
    if query.len() != column_dims {
        // The exact path reports pgvector's "different vector dimensions" error.
        return Ok(AnnPlan::Plain);
    }
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let filter = filters.iter().cloned().map(unqualify).reduce(Expr::and);
    let lance = |e: lance::Error| DataFusionError::External(Box::new(e));

    // A table this small is searched exactly, by the plan above (from the scan cache): as
    // fast as the index, and exact.
    let rows = dataset.count_rows(None).await.map_err(lance)?;
    if rows <= ann.settings.exact_below {
        return Ok(AnnPlan::Exact { rows: rows as u64, filtered: false });
    }
    let method = ann.index.method;
    let probes = if method.has_graph() { None } else { ann.settings.probes };
    let nprobes = ann.settings.nprobes.or(probes).or_else(|| default_nprobes(method, &ann.index));
    let ef = method.has_graph().then(|| ann.settings.ef_search.unwrap_or(DEFAULT_EF_SEARCH).max(ann.k));

    // The share of rows the filter keeps: the probes are widened by its inverse, so the
    // partitions searched hold about as many matching rows as an unfiltered search sees.
    let mut selectivity = 1.0;
    let row_filter = match &filter {
        Some(f) => crate::ann_filter::RowFilter::evaluate(state, dataset, f, cx.table, &cx.direct, &cx.scan_cache)?,
        None => None,
    };
    // Unfiltered, or filtered by the row set just evaluated from memory, the index is searched
    // directly when it covers the whole table.
    let segments = match filter.is_none() || row_filter.is_some() {
        true => crate::ann_direct::covers_all(dataset, &ann.index.lance_name).await?,
        false => None,
    };
    if let Some(f) = &filter {
        let matching = match &row_filter {
            Some(r) => r.matching(),
            None => {
                let mut count = dataset.scan();
                count.filter_expr(f.clone());
                count.count_rows().await.map_err(lance)? as usize
            }
        };
        selectivity = (matching as f64 / rows.max(1) as f64).max(1e-6);
        let work = filtered_index_work(&ann.index, rows, nprobes, selectivity, column_dims, segments.is_some());
        // Only from memory: an exact search reading its vectors from the files is no match for
        // any index.
        let width: usize = schema.fields().iter().map(|f| crate::lance_table::estimated_width(f.data_type())).sum();
        let cheaper = ann.settings.exact_below > 0 && (matching as f64) <= work && cx.scan_cache.admits(rows * width);
        if matching <= ann.settings.exact_below || cheaper {
            return Ok(AnnPlan::Exact { rows: matching as u64, filtered: true });
        }
    }
    let nprobes = nprobes.map(|n| ((n as f64 / selectivity).ceil() as usize).min(32768));
    let refine = ann.settings.refine_factor.or_else(|| default_refine(method)).filter(|r| *r > 1);

    let strategy = Strategy { nprobes, ef, refine, ..Strategy::new(ann, None, !filters.is_empty()) };
    if let Some(segments) = segments {
        let direct = DirectSearch {
            cache: cx.direct,
            scan_cache: cx.scan_cache,
            table: cx.table,
            column_indexes: cx.projection,
            dataset: dataset.clone(),
            segments,
            column: ann.index.column.clone(),
            query: query_expr,
            dims: column_dims,
            metric: ann.metric.lance(),
            candidates: ann.k * refine.unwrap_or(1) as usize,
            nprobes: nprobes.unwrap_or(1),
            ef,
            schema: schema.clone(),
            filter: row_filter.map(Arc::new),
        };
        let strategy = Strategy { direct: true, ..strategy };
        return Ok(AnnPlan::Index(Arc::new(VectorIndexScanExec::new(Source::Direct(Arc::new(direct)), schema, strategy))));
    }

    let mut scan = dataset.scan();
    scan.project(&columns).map_err(lance)?;
    scan.nearest(&ann.index.column, query.as_ref(), ann.k).map_err(lance)?;
    scan.disable_scoring_autoprojection();
    scan.distance_metric(ann.metric.lance());
    if let Some(n) = nprobes {
        scan.minimum_nprobes(n);
    }
    if let Some(ef) = ef {
        scan.ef(ef);
    }
    if let Some(r) = refine {
        scan.refine(r);
    }
    if let Some(f) = filter {
        scan.filter_expr(f);
        scan.prefilter(true);
    }
    let inner = scan.create_plan().await.map_err(lance)?;
    Ok(AnnPlan::Index(Arc::new(VectorIndexScanExec::new(Source::Lance(inner), schema, strategy))))
}

/// Partitions probed when no setting says: every one of an `hnsw` index's (it has few, each a
/// graph; Lance stops at the last), about 1/16 of an IVF index's lists but at least 8.
fn default_nprobes(method: IndexMethod, index: &IndexMeta) -> Option<usize> {
    let lists = index.options.get("lists").or(index.options.get("num_partitions")).map(|v| *v as usize);
    match method {
        IndexMethod::Hnsw => Some(lists.unwrap_or(64)),
        _ => Some(lists.map(|l| (l / 16).max(8).min(l)).unwrap_or(16)),
    }
}

/// The work of an index search, in exact distance comparisons of `dims`-dimensional vectors,
/// when a filter keeps `selectivity` of the table's rows and the search is widened to find k of
/// them: the rows of the partitions it probes (the probes grow by 1 / selectivity), each
/// costing `per_row` comparisons. The exact search of the matching rows compares each once (its
/// filter costs little next to that); when that is no more than this, it is chosen: it is also
/// exact. Measured at 1M × 128 (docs/benchmarks.md):
///
/// - An IVF partition asks Lance's row mask about each of its rows (a tree lookup, ~6 times a
///   128-dimensional distance; the same in Lance's scanner): ivfflat (1,000 lists) took 50 ms
///   for a 25 % filter, 34 ms at 50 %, 19 ms at 90 %, where the exact search took 21, 31, 35 ms.
/// - A graph index probes all of its few partitions. Through Lance's scanner (`direct` false)
///   its filtered search cost as much as comparing every row: 35–71 ms whatever the filter kept.
///   Searched directly, the filter's rows from memory, the graph asks of each row of a partition
///   whether the filter keeps it (a bit, about a 20-dimensional distance) and walks only those:
///   14–18 ms for filters keeping 5 % to 90 %, where the exact search took 8 ms at 5 %, 12 ms at
///   10 %, 21 ms at 25 %.
fn filtered_index_work(index: &IndexMeta, rows: usize, nprobes: Option<usize>, selectivity: f64, dims: usize, direct: bool) -> f64 {
    let options = &index.options;
    let given = options.get("lists").or(options.get("num_partitions")).map(|v| *v as usize);
    let partitions = given.unwrap_or_else(|| crate::index_spec::default_partitions(index.method, rows)).max(1) as f64;
    let probed = (nprobes.unwrap_or(1) as f64 / selectivity).min(partitions);
    let dims = dims.max(1) as f64;
    let per_row = match (index.method.has_graph(), direct) {
        (true, true) => 20.0 / dims,
        (true, false) => 1.0,
        (false, _) => 1.0 + 640.0 / dims,
    };
    rows as f64 * probed / partitions * per_row
}

/// Quantized indexes rank by approximate distances; re-ranking more candidates by the exact
/// distance (the Sort above the scan does it) restores the order and the recall at little
/// cost: 2k for 8-bit scalar quantization (hnsw's graphs), 4k for product and RaBitQ codes.
fn default_refine(method: IndexMethod) -> Option<u32> {
    match method {
        IndexMethod::Hnsw | IndexMethod::IvfHnswSq | IndexMethod::IvfSq => Some(2),
        IndexMethod::IvfPq | IndexMethod::IvfRq | IndexMethod::IvfHnswPq => Some(4),
        _ => None,
    }
}

fn dataset_field_type(dataset: &Dataset, column: &str) -> Option<DataType> {
    let schema = Schema::from(dataset.schema());
    schema.field_with_name(column).ok().map(|f| f.data_type().clone())
}

/// The query vector as an expression evaluated when the scan runs (a prepared statement's plan
/// runs with new values each time: [`VectorIndexScanExec::rebindable`]), and its value now.
fn query_values(state: &dyn Session, query: &Expr) -> Result<(Arc<dyn PhysicalExpr>, Option<ArrayRef>)> {
    let physical = state.create_physical_expr(query.clone(), &DFSchema::empty())?;
    let value = evaluate_query(&physical)?;
    Ok((physical, value))
}

/// The query vector's elements, or `None` when it is NULL (the exact path then orders by NULL).
pub(crate) fn evaluate_query(query: &Arc<dyn PhysicalExpr>) -> Result<Option<ArrayRef>> {
    let value = constant_value(query)?.to_array()?;
    if value.is_null(0) {
        return Ok(None);
    }
    Ok(match value.data_type() {
        DataType::FixedSizeList(..) => Some(value.as_fixed_size_list().value(0)),
        DataType::LargeList(_) => Some(value.as_list::<i64>().value(0)),
        DataType::List(_) => Some(value.as_list::<i32>().value(0)),
        // The rule makes text queries vectors; anything else is left to the exact path.
        _ => None,
    })
}

/// The value of an expression without columns (a literal, or a prepared statement's parameter
/// and casts or calls of it), evaluated now.
pub fn constant_value(e: &Arc<dyn PhysicalExpr>) -> Result<datafusion::common::ScalarValue> {
    if let Some(l) = e.downcast_ref::<Literal>() {
        return Ok(l.value().clone());
    }
    let batch = RecordBatch::try_new_with_options(Arc::new(Schema::empty()), vec![], &RecordBatchOptions::new().with_row_count(Some(1)))?;
    match e.evaluate(&batch)? {
        datafusion::logical_expr::ColumnarValue::Scalar(v) => Ok(v),
        datafusion::logical_expr::ColumnarValue::Array(a) => datafusion::common::ScalarValue::try_from_array(&a, 0),
    }
}

/// Lance resolves filter columns against its own schema, without the table qualifier.
fn unqualify(e: Expr) -> Expr {
    e.transform(|e| match e {
        Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
    .expect("infallible")
}

/// The ANN scan in a plan: Lance's search below, the table's columns (without Lance's
/// `_distance`) out.
#[derive(Debug)]
pub struct VectorIndexScanExec {
    input: Source,
    schema: SchemaRef,
    strategy: Strategy,
    properties: Arc<PlanProperties>,
}

impl VectorIndexScanExec {
    fn new(input: Source, schema: SchemaRef, strategy: Strategy) -> Self {
        // Lance's plans and plain scans keep their partitions (each is executed as is).
        let partitions = match &input {
            Source::Lance(plan) => plan.output_partitioning().partition_count(),
            Source::Direct(_) => 1,
        };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { input, schema, strategy, properties }
    }
}

impl VectorIndexScanExec {
    /// Whether this scan, planned once, still answers correctly now that its query expression
    /// may evaluate to another value (a prepared statement's parameters were replaced): an
    /// exact search always does; a direct index search for a non-NULL query of the indexed
    /// dimension; Lance's scanner plan never (it holds the query it was planned with).
    pub fn rebindable(&self) -> Result<bool> {
        match &self.input {
            // A filter's rows were found for the values it had when planned.
            Source::Direct(d) => Ok(d.filter.is_none() && evaluate_query(&d.query)?.is_some_and(|q| q.len() == d.dims)),
            Source::Lance(_) => Ok(self.strategy.exact.is_some()),
        }
    }
}

impl DisplayAs for VectorIndexScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let s = &self.strategy;
        write!(f, "VectorIndexScanExec: index={} ({}, {}), k={}", s.index, s.method.name(), s.metric.name(), s.k)?;
        match s.exact {
            Some(rows) if s.filtered => write!(f, ", exact search of {rows} filtered rows")?,
            Some(rows) => write!(f, ", exact search of {rows} rows")?,
            None => {
                if let Some(n) = s.nprobes {
                    write!(f, ", nprobes={n}")?;
                }
                if let Some(ef) = s.ef {
                    write!(f, ", ef={ef}")?;
                }
                if let Some(r) = s.refine {
                    write!(f, ", refine_factor={r}")?;
                }
                if s.filtered {
                    write!(f, ", prefilter")?;
                }
                if s.direct {
                    write!(f, ", direct")?;
                }
            }
        }
        Ok(())
    }
}

impl ExecutionPlan for VectorIndexScanExec {
    fn name(&self) -> &str {
        "VectorIndexScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        match &self.input {
            Source::Lance(plan) => vec![plan],
            Source::Direct(_) => vec![],
        }
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let input = match (&self.input, children.into_iter().next()) {
            (Source::Lance(_), Some(plan)) => Source::Lance(plan),
            (Source::Direct(d), None) => Source::Direct(d.clone()),
            _ => return Err(DataFusionError::Internal("VectorIndexScanExec given the wrong children".into())),
        };
        Ok(Arc::new(Self::new(input, self.schema.clone(), self.strategy.clone())))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = match &self.input {
            Source::Lance(plan) => plan.clone(),
            Source::Direct(search) => {
                let search = search.clone();
                let once = futures::stream::once(async move { search.run().await });
                return Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), once)));
            }
        };
        let stream = input.execute(partition, context)?;
        let schema = self.schema.clone();
        let out = schema.clone();
        let batches = stream.map(move |batch| {
            let batch = batch?;
            let columns = schema
                .fields()
                .iter()
                .map(|f| {
                    batch.column_by_name(f.name()).cloned().ok_or_else(|| DataFusionError::Internal(format!("ANN scan lost column {}", f.name())))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())))?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(out, batches)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index_spec::IndexMethod;

    fn index(method: IndexMethod, options: &[(&str, i64)]) -> IndexMeta {
        IndexMeta {
            oid: 1,
            name: "i".into(),
            column: "v".into(),
            more_columns: vec![],
            method,
            opclass: None,
            metric: None,
            options: options.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            lance_name: "i".into(),
            comment: None,
        }
    }

    /// Whether the exact search of the matching rows is chosen over the index at 1M rows,
    /// searched through Lance's scanner or directly.
    fn exact_at_1m(index: &IndexMeta, nprobes: Option<usize>, selectivity: f64, dims: usize, direct: bool) -> bool {
        let rows = 1_000_000;
        selectivity * rows as f64 <= filtered_index_work(index, rows, nprobes, selectivity, dims, direct)
    }

    #[test]
    fn selective_filters_are_searched_exactly_wide_ones_through_the_index() {
        // ivfflat, 1,000 lists, 62 probes: a filtered search probes 62 / selectivity lists,
        // asking the row mask about each of their rows.
        let ivf = index(IndexMethod::Ivfflat, &[("lists", 1000)]);
        for direct in [false, true] {
            assert!(exact_at_1m(&ivf, Some(62), 0.01, 128, direct));
            assert!(exact_at_1m(&ivf, Some(62), 0.50, 128, direct));
            assert!(!exact_at_1m(&ivf, Some(62), 0.90, 128, direct));
            assert!(!exact_at_1m(&ivf, Some(62), 0.40, 768, direct));
        }
        // hnsw: its two graphs at 1M rows are both searched, whatever the filter; through
        // Lance's scanner that is never cheaper, directly it is once the filter keeps more
        // than about a sixth of the rows (at 128 dimensions).
        let hnsw = index(IndexMethod::Hnsw, &[]);
        assert!(exact_at_1m(&hnsw, Some(2), 0.01, 128, false));
        assert!(exact_at_1m(&hnsw, Some(2), 0.9, 128, false));
        assert!(exact_at_1m(&hnsw, Some(2), 0.10, 128, true));
        assert!(!exact_at_1m(&hnsw, Some(2), 0.25, 128, true));
        assert!(!exact_at_1m(&hnsw, Some(2), 0.05, 768, true));
        // Unfiltered, the probes are not widened: 62 lists of 1,000 rows, 6 comparisons a row.
        assert_eq!(filtered_index_work(&ivf, 1_000_000, Some(62), 1.0, 128, true), 372_000.0);
    }
}
