//! Column types Lance cannot store, kept in a form it can.
//!
//! Lance 14 has no interval type. An `interval` column is stored as a struct of Arrow's three
//! `MonthDayNano` parts (months, days, nanoseconds: nothing is lost, and PostgreSQL's interval
//! has the same three), marked with `quartzdb.pg_type = interval`. SQL sees the Arrow interval:
//! [`sql_schema`] is what tables show, writes go through [`to_stored`], and every scan is
//! wrapped in [`DecodeExec`], which turns the structs back into intervals.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, Int64Array, IntervalMonthDayNanoArray, RecordBatch, StructArray};
use arrow::datatypes::{DataType, Field, Fields, IntervalMonthDayNano, IntervalUnit, Int32Type, Int64Type, Schema, SchemaRef};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::StreamExt;

/// The field-metadata key naming a column's PostgreSQL type (the planner's `types` sets it too).
pub const PG_TYPE: &str = "quartzdb.pg_type";
const INTERVAL: &str = "interval";

fn parts() -> Fields {
    Fields::from(vec![
        Field::new("months", DataType::Int32, true),
        Field::new("days", DataType::Int32, true),
        Field::new("nanoseconds", DataType::Int64, true),
    ])
}

/// True for a stored field that SQL sees as another type.
pub fn is_encoded(f: &Field) -> bool {
    matches!(f.data_type(), DataType::Struct(_)) && f.metadata().get(PG_TYPE).is_some_and(|t| t == INTERVAL)
}

/// A field as Lance stores it.
pub fn stored_field(f: &Field) -> Field {
    match f.data_type() {
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let mut metadata = f.metadata().clone();
            metadata.insert(PG_TYPE.into(), INTERVAL.into());
            Field::new(f.name(), DataType::Struct(parts()), f.is_nullable()).with_metadata(metadata)
        }
        _ => f.clone(),
    }
}

/// A stored field as SQL sees it.
pub fn sql_field(f: &Field) -> Field {
    if is_encoded(f) {
        Field::new(f.name(), DataType::Interval(IntervalUnit::MonthDayNano), f.is_nullable()).with_metadata(f.metadata().clone())
    } else {
        f.clone()
    }
}

pub fn stored_schema(schema: &Schema) -> Schema {
    Schema::new_with_metadata(schema.fields().iter().map(|f| stored_field(f)).collect::<Vec<_>>(), schema.metadata().clone())
}

pub fn sql_schema(schema: &Schema) -> Schema {
    Schema::new_with_metadata(schema.fields().iter().map(|f| sql_field(f)).collect::<Vec<_>>(), schema.metadata().clone())
}

/// A batch of SQL values in the stored form (`stored` is the dataset's schema, or a
/// projection of it with the batch's columns).
pub fn to_stored(batch: &RecordBatch, stored: &Schema) -> Result<RecordBatch> {
    if !stored.fields().iter().any(|f| is_encoded(f)) {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .map(|(c, f)| match stored.field_with_name(f.name()) {
            Ok(target) if is_encoded(target) && matches!(c.data_type(), DataType::Interval(_)) => encode(c),
            _ => Ok(c.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    let fields: Vec<Field> = batch.schema().fields().iter().map(|f| stored.field_with_name(f.name()).cloned().unwrap_or_else(|_| f.as_ref().clone())).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// A batch read from Lance with its encoded columns decoded.
pub fn to_sql(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .map(|(c, f)| if is_encoded(f) { decode(c) } else { Ok(c.clone()) })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

fn encode(c: &ArrayRef) -> Result<ArrayRef> {
    let intervals = c.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>();
    let value = |i: usize| if intervals.is_null(i) { IntervalMonthDayNano::ZERO } else { intervals.value(i) };
    let n = intervals.len();
    let months: Int32Array = (0..n).map(|i| Some(value(i).months)).collect();
    let days: Int32Array = (0..n).map(|i| Some(value(i).days)).collect();
    let nanos: Int64Array = (0..n).map(|i| Some(value(i).nanoseconds)).collect();
    let arrays: Vec<ArrayRef> = vec![Arc::new(months), Arc::new(days), Arc::new(nanos)];
    Ok(Arc::new(StructArray::try_new(parts(), arrays, intervals.nulls().cloned())?))
}

fn decode(c: &ArrayRef) -> Result<ArrayRef> {
    let s = c.as_struct();
    let (months, days, nanos) = (s.column(0).as_primitive::<Int32Type>(), s.column(1).as_primitive::<Int32Type>(), s.column(2).as_primitive::<Int64Type>());
    let out: IntervalMonthDayNanoArray = (0..s.len())
        .map(|i| (!s.is_null(i)).then(|| IntervalMonthDayNano::new(months.value(i), days.value(i), nanos.value(i))))
        .collect();
    Ok(Arc::new(out))
}

/// Wraps a scan of stored columns so that it yields SQL's; returns `plan` itself when none of
/// its columns is encoded.
pub fn decode_plan(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    if !plan.schema().fields().iter().any(|f| is_encoded(f)) {
        return plan;
    }
    let schema = Arc::new(sql_schema(&plan.schema()));
    let properties = Arc::new(PlanProperties::new(
        EquivalenceProperties::new(schema.clone()),
        plan.output_partitioning().clone(),
        plan.pipeline_behavior(),
        plan.boundedness(),
    ));
    Arc::new(DecodeExec { input: plan, schema, properties })
}

/// Decodes the encoded columns of its input's batches.
#[derive(Debug)]
pub struct DecodeExec {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for DecodeExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DecodeExec")
    }
}

impl ExecutionPlan for DecodeExec {
    fn name(&self) -> &str {
        "DecodeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children.into_iter().next().ok_or_else(|| datafusion::error::DataFusionError::Internal("DecodeExec needs its input".into()))?;
        Ok(decode_plan(input))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let schema = self.schema.clone();
        let stream = self.input.execute(partition, context)?.map(move |b| to_sql(b?, &schema));
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_survive_the_round_trip() {
        let sql = Arc::new(Schema::new(vec![Field::new("i", DataType::Interval(IntervalUnit::MonthDayNano), true)]));
        let values = IntervalMonthDayNanoArray::from(vec![Some(IntervalMonthDayNano::new(14, -3, 5_000_000_123)), None]);
        let batch = RecordBatch::try_new(sql.clone(), vec![Arc::new(values.clone())]).unwrap();
        let stored = stored_schema(&sql);
        assert!(is_encoded(stored.field(0)));
        let encoded = to_stored(&batch, &stored).unwrap();
        assert!(matches!(encoded.column(0).data_type(), DataType::Struct(_)));
        let back = to_sql(encoded, &Arc::new(sql_schema(&stored))).unwrap();
        assert_eq!(back.column(0).as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>(), &values);
        assert!(back.column(0).is_null(1));
    }
}
