//! Checks on rows about to be written that the Arrow types alone do not enforce: NOT NULL and
//! `varchar(n)` / `char(n)` lengths.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use quartzdb_storage::{StorageError, TableMeta};

use crate::error::{Error, Result};

/// Casts each column to the table's type and checks the constraints. Returns batches with the
/// table's exact schema.
pub fn conform(table: &str, meta: &TableMeta, schema: &Schema, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let schema = std::sync::Arc::new(schema.clone());
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        if batch.num_rows() == 0 {
            continue;
        }
        let mut columns = Vec::with_capacity(schema.fields().len());
        for (i, (field, col)) in schema.fields().iter().zip(&meta.columns).enumerate() {
            let array = batch.column(i);
            let array = if array.data_type() == field.data_type() { array.clone() } else { cast(array, field.data_type())? };
            if col.not_null && array.null_count() > 0 {
                return Err(StorageError::NotNullViolation { table: table.to_string(), column: col.name.clone() }.into());
            }
            if let Some(limit) = char_limit(&col.type_name) {
                check_length(array.as_ref(), limit, &col.type_name)?;
            }
            columns.push(array);
        }
        out.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok(out)
}

/// `character varying(n)` and `character(n)` limit length in characters.
fn char_limit(type_name: &str) -> Option<usize> {
    let rest = type_name.strip_prefix("character varying(").or_else(|| type_name.strip_prefix("character("))?;
    rest.strip_suffix(')')?.parse().ok()
}

fn check_length(array: &dyn Array, limit: usize, type_name: &str) -> Result<()> {
    if *array.data_type() != DataType::Utf8 {
        return Ok(());
    }
    for v in array.as_string::<i32>().iter().flatten() {
        // PostgreSQL ignores trailing spaces beyond the limit.
        if v.chars().count() > limit && v.trim_end_matches(' ').chars().count() > limit {
            return Err(Error::StringTooLong { type_name: type_name.to_string() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_limits_come_from_the_type_name() {
        assert_eq!(char_limit("character varying(20)"), Some(20));
        assert_eq!(char_limit("character(1)"), Some(1));
        assert_eq!(char_limit("character varying"), None);
        assert_eq!(char_limit("text"), None);
    }
}
