//! Checks on rows about to be written that the Arrow types alone do not enforce: NOT NULL and
//! `varchar(n)` / `char(n)` lengths.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use quartzdb_storage::{ColumnMeta, StorageError, TableMeta};

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
            columns.push(conform_column(table, col, array)?);
        }
        out.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok(out)
}

/// One column's checks: NOT NULL, and the length of `character(n)` / `varchar(n)` values
/// (those of `character(n)` come back without trailing spaces).
pub fn conform_column(table: &str, col: &ColumnMeta, array: ArrayRef) -> Result<ArrayRef> {
    if col.not_null && array.null_count() > 0 {
        return Err(StorageError::NotNullViolation { table: table.to_string(), column: col.name.clone() }.into());
    }
    match crate::types::char_limit(&col.type_name) {
        Some(limit) => fit_length(array, limit, col.type_name.starts_with("character("), &col.type_name),
        None => Ok(array),
    }
}


/// 22001 for a value longer than `limit`, unless the excess is spaces, which PostgreSQL cuts
/// off. A `character(n)` value is kept without its trailing spaces, which are not significant
/// in PostgreSQL (comparisons and casts to text ignore them); the wire layer pads it again.
fn fit_length(array: ArrayRef, limit: usize, blank_padded: bool, type_name: &str) -> Result<ArrayRef> {
    if *array.data_type() != DataType::Utf8 {
        return Ok(array);
    }
    let strings = array.as_string::<i32>();
    let fitted = |v: &str| -> Result<Option<String>> {
        let trimmed = v.trim_end_matches(' ');
        if blank_padded {
            if trimmed.chars().count() > limit {
                return Err(Error::StringTooLong { type_name: type_name.to_string() });
            }
            return Ok((trimmed.len() != v.len()).then(|| trimmed.to_string()));
        }
        if v.chars().count() <= limit {
            return Ok(None);
        }
        if trimmed.chars().count() > limit {
            return Err(Error::StringTooLong { type_name: type_name.to_string() });
        }
        Ok(Some(v.chars().take(limit).collect()))
    };
    let mut changed: Vec<Option<String>> = Vec::new();
    let mut any = false;
    for v in strings.iter() {
        let f = match v {
            Some(v) => fitted(v)?,
            None => None,
        };
        any |= f.is_some();
        changed.push(f);
    }
    if !any {
        return Ok(array);
    }
    let out: StringArray = strings.iter().zip(changed).map(|(v, f)| f.or_else(|| v.map(str::to_string))).collect();
    Ok(std::sync::Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_limits_come_from_the_type_name() {
        assert_eq!(crate::types::char_limit("character varying(20)"), Some(20));
        assert_eq!(crate::types::char_limit("character(1)"), Some(1));
        assert_eq!(crate::types::char_limit("character varying"), None);
        assert_eq!(crate::types::char_limit("text"), None);
    }

    #[test]
    fn excess_spaces_are_cut_and_char_values_kept_unpadded() {
        let values: ArrayRef = std::sync::Arc::new(StringArray::from(vec![Some("ab   "), None, Some("abc"), Some("a")]));
        let varchar = fit_length(values.clone(), 3, false, "character varying(3)").unwrap();
        assert_eq!(varchar.as_string::<i32>().iter().collect::<Vec<_>>(), vec![Some("ab "), None, Some("abc"), Some("a")]);
        let char = fit_length(values.clone(), 3, true, "character(3)").unwrap();
        assert_eq!(char.as_string::<i32>().iter().collect::<Vec<_>>(), vec![Some("ab"), None, Some("abc"), Some("a")]);
        assert!(fit_length(values, 2, true, "character(2)").is_err());
    }
}
