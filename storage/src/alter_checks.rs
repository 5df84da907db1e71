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
