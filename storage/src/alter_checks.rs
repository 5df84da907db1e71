//! Checks of a table's existing rows before ALTER TABLE tightens what they may hold: SET NOT
//! NULL and a new PRIMARY KEY (no NULLs), a new PRIMARY KEY or UNIQUE constraint (no
//! duplicates), a shorter `varchar(n)` (no longer values). Each reads only the columns it needs,
//! batch by batch.

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use futures::TryStreamExt;
use lance::dataset::Dataset;

use crate::catalog::ConstraintMeta;
use crate::error::{Error, Result};
use crate::unique::UniqueIndex;

async fn scan(dataset: &Dataset, columns: &[&str], mut each: impl FnMut(&arrow::array::RecordBatch) -> Result<()>) -> Result<()> {
    let mut scanner = dataset.scan();
    scanner.project(columns)?;
    let mut stream = scanner.try_into_stream().await?;
    while let Some(batch) = stream.try_next().await? {
        each(&batch)?;
    }
    Ok(())
}

/// 23502 when a row holds NULL in one of `columns`.
pub async fn no_nulls(dataset: &Dataset, table: &str, columns: &[String]) -> Result<()> {
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    scan(dataset, &names, |batch| {
        for (i, name) in names.iter().enumerate() {
            if batch.column(i).null_count() > 0 {
                return Err(Error::ColumnContainsNulls { table: table.into(), column: name.to_string() });
            }
        }
        Ok(())
    })
    .await
}

/// 22001 when a value of `column` is longer than `max` characters.
pub async fn fits(dataset: &Dataset, column: &str, max: usize, type_name: &str) -> Result<()> {
    scan(dataset, &[column], |batch| {
        let text = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        if text.as_string::<i32>().iter().flatten().any(|v| v.chars().count() > max) {
            return Err(Error::ValueTooLong(type_name.to_string()));
        }
        Ok(())
    })
    .await
}

/// 23505 when two rows share a key of the new constraint.
pub async fn unique(dataset: &Dataset, constraint: &ConstraintMeta) -> Result<()> {
    let names: Vec<&str> = constraint.columns.iter().map(String::as_str).collect();
    let table = crate::store::table_schema(dataset);
    let positions = names.iter().map(|n| table.index_of(n)).collect::<std::result::Result<Vec<_>, _>>()?;
    let schema = table.project(&positions)?;
    let mut index = UniqueIndex::new(std::slice::from_ref(constraint), &schema)?;
    let result = scan(dataset, &names, |batch| index.apply(&[], std::slice::from_ref(batch))).await;
    match result {
        // PostgreSQL's words when building the index over existing rows finds a repeat.
        Err(Error::UniqueViolation { detail, .. }) => {
            Err(Error::DuplicateKeys { index: constraint.name.clone(), detail: detail.replace("already exists.", "is duplicated.") })
        }
        other => other,
    }
}

/// Whether ALTER COLUMN TYPE can convert a column stored as `from` into `to` in place (Lance
/// rewrites just that column): integers to integers (narrowing ones checked first by
/// [`fits_integer`]), `real` to `double precision`, and `numeric(p,s)` to a numeric that holds
/// every value exactly (no fewer integer digits, no smaller scale). Each is an exact Arrow cast,
/// equal to PostgreSQL's.
pub fn convertible(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (DataType::Int16 | DataType::Int32 | DataType::Int64, DataType::Int16 | DataType::Int32 | DataType::Int64) => true,
        (DataType::Float32, DataType::Float64) => true,
        (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => s2 >= s1 && (*p2 as i16 - *s2 as i16) >= (*p1 as i16 - *s1 as i16),
        _ => false,
    }
}

/// 22003 when a value of `column` does not fit the integer type `to` (PostgreSQL's message:
/// `integer out of range`).
pub async fn fits_integer(dataset: &Dataset, column: &str, to: &DataType, type_name: &str) -> Result<()> {
    let (min, max): (i64, i64) = match to {
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        _ => return Ok(()),
    };
    scan(dataset, &[column], |batch| {
        let values = arrow::compute::cast(batch.column(0), &DataType::Int64)?;
        if values.as_primitive::<arrow::datatypes::Int64Type>().iter().flatten().any(|v| v < min || v > max) {
            return Err(Error::ValueOutOfRange(type_name.to_string()));
        }
        Ok(())
    })
    .await
}

