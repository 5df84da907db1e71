//! [`DistanceTopK`]: exact `ORDER BY <distance>(col, q) LIMIT k` in one pass per partition,
//! with the partitions scanned in parallel.
//!
//! DataFusion plans that query as a `SortExec` top-k per partition under a sort-preserving
//! merge. That evaluates the distance into a column for every batch, then compares the column
//! with the heap through Arrow kernels; and the merge polls its inputs from one task, so a
//! single query scans on one core. This operator takes the pair's place: one task per input
//! partition computes each row's distance straight from the vector column and keeps the k best
//! (row positions only, and only the batches they point into), then the candidates of all
//! partitions are merged. Distances are the distance function's own values (the same code), so
//! the rows and their order are the ones the sort would give.
//!
//! A filter right below (`WHERE tag = 3 ORDER BY … LIMIT k`, the exact path of a selective
//! filtered search) is evaluated by the operator itself: distances are computed only for the
//! rows that pass, and no filtered copy of the vectors is made (Arrow's filter of a vector
//! column walks every value of every row, which cost more than the search).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::array::{Array, AsArray};
use arrow::compute::{SlicesIterator, interleave_record_batch, prep_null_mask_filter};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::expressions::{Column, Literal};
use arrow::compute::SortOptions;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr, PhysicalSortExpr, ScalarFunctionExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, Time};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use super::array::Rows;
use super::functions::QueryDistance;
use quartzdb_storage::ann::constant_value;

/// Replaces exact distance top-k sorts with [`DistanceTopKExec`].
#[derive(Debug, Default)]
pub struct DistanceTopK;

impl PhysicalOptimizerRule for DistanceTopK {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            // The merge of per-partition top-k sorts, or a sort of all partitions at once.
            let (sort, fetch) = if let Some(merge) = node.downcast_ref::<SortPreservingMergeExec>() {
                let Some(sort) = merge.input().downcast_ref::<SortExec>() else { return Ok(Transformed::no(node)) };
                if merge.expr() != sort.expr() {
                    return Ok(Transformed::no(node));
                }
                // The merge's fetch is the query's k (a sort's alone would be per partition).
                let Some(fetch) = merge.fetch() else { return Ok(Transformed::no(node)) };
                let fetch = sort.fetch().map_or(fetch, |k| k.min(fetch));
                (sort, fetch)
            } else if let Some(sort) = node.downcast_ref::<SortExec>() {
                match sort.fetch() {
                    Some(k) if !sort.preserve_partitioning() || sort.input().properties().output_partitioning().partition_count() == 1 => (sort, k),
                    _ => return Ok(Transformed::no(node)),
                }
            } else {
                return Ok(Transformed::no(node));
            };
            Ok(match replacement(sort, fetch)? {
                Some(plan) => Transformed::yes(plan),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "distance_top_k"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The k rows of the input nearest to a constant query, in order; one output partition.
#[derive(Debug)]
pub struct DistanceTopKExec {
    input: Arc<dyn ExecutionPlan>,
    /// The distance to the query's value when planned; a query that is not a literal (a
    /// prepared statement's parameter) is evaluated again when the plan runs.
    distance: Arc<QueryDistance>,
    query: Arc<dyn PhysicalExpr>,
    function: datafusion::logical_expr::ScalarUDF,
    /// A filter absorbed from below: only rows it keeps are candidates.
    filter: Option<Arc<dyn PhysicalExpr>>,
    /// The columns of the input that are the output (the absorbed filter's projection).
    projection: Option<Vec<usize>>,
    /// The vector column's position in the input.
    column: usize,
    column_name: String,
    k: usize,
    nulls_first: bool,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

/// What replaces `sort` (keeping its first `k` rows), when its one key is an ascending distance
/// of a column and a constant vector: the key itself, or a column that a projection right
/// below computed (`SELECT id, embedding <-> q AS d … ORDER BY d`). The projection then runs
/// above the top-k, on k rows.
fn replacement(sort: &SortExec, k: usize) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let [key] = sort.expr().as_ref() else { return Ok(None) };
    if key.options.descending {
        return Ok(None);
    }
    if let Some(exec) = DistanceTopKExec::try_new(sort.input().clone(), &key.expr, key.options, k)? {
        return Ok(Some(Arc::new(exec)));
    }
    let (Some(column), Some(projection)) = (key.expr.downcast_ref::<Column>(), sort.input().downcast_ref::<ProjectionExec>()) else {
        return Ok(None);
    };
    let distance = &projection.expr()[column.index()].expr;
    match DistanceTopKExec::try_new(projection.input().clone(), distance, key.options, k)? {
        Some(exec) => Ok(Some(Arc::new(ProjectionExec::try_new(projection.expr().iter().cloned(), Arc::new(exec))?))),
        None => Ok(None),
    }
}

impl DistanceTopKExec {
    /// The top-k of `input` by `key`, when `key` is a distance of one of its columns and a
    /// constant.
    fn try_new(input: Arc<dyn ExecutionPlan>, key: &Arc<dyn PhysicalExpr>, options: SortOptions, k: usize) -> Result<Option<Self>> {
        let Some(call) = key.downcast_ref::<ScalarFunctionExpr>() else { return Ok(None) };
        let [a, b] = call.args() else { return Ok(None) };
        let (column, query) = match (column_of(a), is_constant(b), column_of(b), is_constant(a)) {
            (Some(c), true, _, _) => (c, b),
            (_, _, Some(c), true) => (c, a),
            _ => return Ok(None),
        };
        let schema = input.schema();
        let Some(distance) = QueryDistance::of(call.fun(), schema.field(column.index()).data_type(), &constant_value(query)?) else { return Ok(None) };
        let ordering = PhysicalSortExpr { expr: key.clone(), options };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema, [[ordering]]),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Ok(Some(Self {
            input,
            distance: Arc::new(distance),
            query: query.clone(),
            function: call.fun().clone(),
            filter: None,
            projection: None,
            column: column.index(),
            column_name: column.name().to_string(),
            k,
            nulls_first: options.nulls_first,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
        .absorb_filter()))
    }

    /// Takes over a filter right below (output and ordering stay those of the filter's rows).
    fn absorb_filter(self) -> Self {
        let Some(filter) = self.input.downcast_ref::<FilterExec>() else { return self };
        if filter.fetch().is_some() {
            return self;
        }
        let projection = filter.projection().as_ref().map(|p| p.to_vec());
        let column = projection.as_ref().map_or(self.column, |p| p[self.column]);
        Self { input: filter.input().clone(), filter: Some(filter.predicate().clone()), projection, column, ..self }
    }
}

fn column_of(e: &Arc<dyn PhysicalExpr>) -> Option<&Column> {
    e.downcast_ref::<Column>()
}

/// An expression without columns or volatile calls: a literal, or a prepared statement's
/// parameter (see [`crate::param_slots`]) and casts or functions of it.
fn is_constant(e: &Arc<dyn PhysicalExpr>) -> bool {
    if e.downcast_ref::<Literal>().is_some() {
        return true;
    }
    if e.downcast_ref::<Column>().is_some() {
        return false;
    }
    // A call without arguments (a parameter slot) is constant unless it is volatile; any other
    // node is constant when it has inputs and all of them are.
    let call = e.downcast_ref::<ScalarFunctionExpr>();
    if call.is_some_and(|f| f.fun().signature().volatility == datafusion::logical_expr::Volatility::Volatile) {
        return false;
    }
    (call.is_some() || !e.children().is_empty()) && e.children().iter().all(|c| is_constant(c))
}

impl DistanceTopKExec {
    /// The distance to the query's current value, `None` when there is none to search for (a
    /// NULL query: the plan must then be made anew, as for a NULL literal).
    fn current_distance(&self) -> Result<Option<Arc<QueryDistance>>> {
        if self.query.downcast_ref::<Literal>().is_some() {
            return Ok(Some(self.distance.clone()));
        }
        let column_type = self.input.schema().field(self.column).data_type().clone();
        Ok(QueryDistance::of(&self.function, &column_type, &constant_value(&self.query)?).map(Arc::new))
    }

    /// Whether this plan, made once, also answers for the query's value now (see
    /// [`crate::param_slots`]).
    pub fn rebindable(&self) -> Result<bool> {
        Ok(self.current_distance()?.is_some())
    }
}

impl DisplayAs for DistanceTopKExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DistanceTopKExec: k={}, {}({}, <{} dims>)", self.k, self.distance.name(), self.column_name, self.distance.dims())?;
        if self.nulls_first {
            write!(f, " NULLS FIRST")?;
        }
        if let Some(filter) = &self.filter {
            write!(f, ", filter={filter}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for DistanceTopKExec {
    fn name(&self) -> &str {
        "DistanceTopKExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|_| DataFusionError::Internal("DistanceTopKExec takes one child".into()))?;
        Ok(Arc::new(Self {
            input,
            distance: self.distance.clone(),
            query: self.query.clone(),
            function: self.function.clone(),
            filter: self.filter.clone(),
            projection: self.projection.clone(),
            column: self.column,
            column_name: self.column_name.clone(),
            k: self.k,
            nulls_first: self.nulls_first,
            properties: self.properties.clone(),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("DistanceTopKExec has one partition, asked for {partition}")));
        }
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let streams = (0..self.input.properties().output_partitioning().partition_count())
            .map(|p| self.input.execute(p, context.clone()))
            .collect::<Result<Vec<_>>>()?;
        let distance = self.current_distance()?.ok_or_else(|| DataFusionError::Internal("DistanceTopKExec run without a query vector".into()))?;
        let search = Search { distance, filter: self.filter.clone(), column: self.column, k: self.k, nulls_first: self.nulls_first };
        let scan_times: Vec<_> = (0..streams.len()).map(|p| MetricBuilder::new(&self.metrics).subset_time("scan_time", p)).collect();
        let schema = self.input.schema();
        let out_schema = self.schema();
        let projection = self.projection.clone();
        let result = async move {
            // Each partition on a task of its own, so they run on all the runtime's threads;
            // dropping this future (a cancelled query) aborts them.
            let tasks: Vec<SpawnedTask<Result<Best>>> =
                streams.into_iter().zip(scan_times).map(|(s, time)| SpawnedTask::spawn(search.clone().run(s, time))).collect();
            let mut best = Vec::with_capacity(tasks.len());
            for task in tasks {
                best.push(task.join().await.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))??);
            }
            let timer = baseline.elapsed_compute().timer();
            let batch = merge(&schema, best, search.k)?;
            let batch = match &projection {
                Some(p) => batch.project(p)?,
                None => batch,
            };
            timer.done();
            let rows = batch.num_rows();
            baseline.record_output(rows);
            Ok((rows > 0).then_some(batch))
        };
        let stream = futures::stream::once(result).filter_map(|r: Result<Option<RecordBatch>>| async move { r.transpose() });
        Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// A row's sort key: NULL distances last (or first), NaN above every number, -0 equal to 0.
#[derive(Debug, Clone, Copy)]
struct Key(Option<f64>, bool);

impl Key {
    fn new(d: Option<f64>, nulls_first: bool) -> Self {
        Key(d.map(|d| if d.is_nan() { f64::NAN } else { d + 0.0 }), nulls_first)
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.0, other.0) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => if self.1 { Ordering::Less } else { Ordering::Greater },
            (Some(_), None) => if self.1 { Ordering::Greater } else { Ordering::Less },
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

/// A candidate row: its key, then its position in input order (which breaks ties, so the
/// result does not depend on timing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    key: Key,
    /// The batch's sequence number within its partition, and the row in it.
    batch: usize,
    row: usize,
}

#[derive(Debug, Clone)]
struct Search {
    distance: Arc<QueryDistance>,
    filter: Option<Arc<dyn PhysicalExpr>>,
    column: usize,
    k: usize,
    nulls_first: bool,
}

/// Per-task space for one batch's distances.
#[derive(Default)]
struct Buffers {
    distances: Vec<f64>,
    scratch: Vec<f32>,
    /// The half-open row ranges the filter keeps.
    ranges: Vec<(usize, usize)>,
}

/// One partition's k best rows and the batches they are in.
struct Best {
    heap: BinaryHeap<Candidate>,
    /// Batches holding candidates, by sequence number.
    batches: Vec<(usize, RecordBatch)>,
}

impl Best {
    /// Drops the batches no candidate points into any more.
    fn forget_unused(&mut self) {
        let live: std::collections::HashSet<usize> = self.heap.iter().map(|c| c.batch).collect();
        self.batches.retain(|(s, _)| live.contains(s));
    }
}

impl Search {
    /// Scans one input partition; `time` measures the distance computations.
    async fn run(self, mut input: SendableRecordBatchStream, time: Time) -> Result<Best> {
        // `LIMIT 1000000000` must not reserve a heap that size up front.
        let mut best = Best { heap: BinaryHeap::with_capacity(self.k.min(4096) + 1), batches: Vec::new() };
        let mut buffers = Buffers::default();
        let mut seq = 0;
        while let Some(batch) = input.next().await {
            let batch = batch?;
            let timer = time.timer();
            let taken = self.k > 0 && self.scan(&batch, seq, &mut best.heap, &mut buffers)?;
            timer.done();
            if taken {
                best.batches.push((seq, batch));
                if best.batches.len() > 2 * self.k + 8 {
                    best.forget_unused();
                }
            }
            seq += 1;
        }
        best.forget_unused();
        Ok(best)
    }

    /// Offers every row of `batch` to the heap; true if any was taken. A row enters only if
    /// it is strictly nearer than the worst kept, so among ties the earlier row stays.
    fn scan(&self, batch: &RecordBatch, seq: usize, heap: &mut BinaryHeap<Candidate>, buffers: &mut Buffers) -> Result<bool> {
        buffers.ranges.clear();
        match &self.filter {
            None => buffers.ranges.push((0, batch.num_rows())),
            Some(filter) => {
                let keep = filter.evaluate(batch)?.into_array(batch.num_rows())?;
                let keep = keep.as_boolean_opt().ok_or_else(|| DataFusionError::Internal("filter of DistanceTopKExec is not boolean".into()))?;
                // NULL is not true: such rows are dropped, as a filter drops them.
                let keep = match keep.nulls() {
                    Some(_) => prep_null_mask_filter(keep),
                    None => keep.clone(),
                };
                buffers.ranges.extend(SlicesIterator::new(&keep));
            }
        }
        let rows = Rows::new(&ColumnarValue::Array(batch.column(self.column).clone()))?;
        self.distance.of_ranges(&rows, &buffers.ranges, &mut buffers.distances, &mut buffers.scratch)?;
        let mut taken = false;
        let positions = buffers.ranges.iter().flat_map(|&(start, end)| start..end);
        for (row, d) in positions.zip(&buffers.distances) {
            let key = Key::new((!rows.is_null(row)).then_some(*d), self.nulls_first);
            if heap.len() < self.k {
                heap.push(Candidate { key, batch: seq, row });
                taken = true;
            } else if heap.peek().is_some_and(|worst| key < worst.key) {
                heap.pop();
                heap.push(Candidate { key, batch: seq, row });
                taken = true;
            }
        }
        Ok(taken)
    }
}

/// The k best of all partitions, in order, as one batch. Ties keep the input's order: batch
/// `seq` of partition `p` is the scan's batch `seq × partitions + p` (round-robin).
fn merge(schema: &arrow::datatypes::SchemaRef, best: Vec<Best>, k: usize) -> Result<RecordBatch> {
    let mut batches: Vec<&RecordBatch> = Vec::new();
    // (key, seq, partition, row, index in `batches`)
    let mut all = Vec::new();
    for (partition, b) in best.iter().enumerate() {
        for c in &b.heap {
            let i = b.batches.iter().position(|(s, _)| *s == c.batch).ok_or_else(|| DataFusionError::Internal("top-k candidate without its batch".into()))?;
            all.push((c.key, c.batch, partition, c.row, batches.len() + i));
        }
        batches.extend(b.batches.iter().map(|(_, batch)| batch));
    }
    all.sort_unstable_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
    all.truncate(k);
    if all.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let indices: Vec<(usize, usize)> = all.iter().map(|c| (c.4, c.3)).collect();
    Ok(interleave_record_batch(&batches, &indices)?)
}
