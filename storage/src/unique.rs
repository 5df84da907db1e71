//! Enforcement of PRIMARY KEY and UNIQUE constraints.
//!
//! Each constrained table keeps, in memory, the set of its key values (encoded with arrow's row
//! format), built by one scan on the table's first write after startup and then maintained by
//! every commit. Checks run under the storage write lock, before the Lance commit, so a statement
//! that would duplicate a key changes nothing.

use std::collections::HashSet;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::row::{RowConverter, SortField};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::catalog::{ConstraintKind, ConstraintMeta};
use crate::error::{Error, Result};

/// The key sets of one table's constraints.
#[derive(Debug)]
pub struct UniqueIndex {
    keys: Vec<ConstraintKeys>,
}

#[derive(Debug)]
struct ConstraintKeys {
    meta: ConstraintMeta,
    /// Column positions in the table schema.
    columns: Vec<usize>,
    converter: RowConverter,
    set: HashSet<Box<[u8]>>,
}

impl UniqueIndex {
    /// Creates empty key sets for the constraints, given each column's position and type.
    pub fn new(constraints: &[ConstraintMeta], schema: &arrow::datatypes::Schema) -> Result<Self> {
        let mut keys = Vec::new();
        for c in constraints {
            let columns = c
                .columns
                .iter()
                .map(|name| {
                    schema.index_of(name).map_err(|_| Error::Internal(format!("constraint {} names unknown column {name}", c.name)))
                })
                .collect::<Result<Vec<_>>>()?;
            let fields = columns.iter().map(|&i| SortField::new(schema.field(i).data_type().clone())).collect();
            keys.push(ConstraintKeys { meta: c.clone(), columns, converter: RowConverter::new(fields)?, set: HashSet::new() });
        }
        Ok(Self { keys })
    }

    /// Adds existing rows without checking (they were checked when written).
    pub fn load(&mut self, batch: &RecordBatch) -> Result<()> {
        for k in &mut self.keys {
            for row in encode(k, batch)?.into_iter().flatten() {
                k.set.insert(row);
            }
        }
        Ok(())
    }

    /// Applies a change, or fails with the first violated constraint and leaves the sets as they
    /// were. Rows with a NULL in any key column never conflict (SQL's UNIQUE semantics).
    pub fn apply(&mut self, deleted: &[RecordBatch], inserted: &[RecordBatch]) -> Result<()> {
        let mut staged = Vec::with_capacity(self.keys.len());
        for k in &self.keys {
            let mut removed = HashSet::new();
            for batch in deleted {
                removed.extend(encode(k, batch)?.into_iter().flatten());
            }
            let mut added: HashSet<Box<[u8]>> = HashSet::new();
            for batch in inserted {
                for (i, row) in encode(k, batch)?.into_iter().enumerate() {
                    let Some(row) = row else { continue };
                    let taken = (k.set.contains(&row) && !removed.contains(&row)) || added.contains(&row);
                    if taken {
                        return Err(Error::UniqueViolation {
                            constraint: k.meta.name.clone(),
                            detail: describe_key(k, batch, i),
                        });
                    }
                    added.insert(row);
                }
            }
            staged.push((removed, added));
        }
        for (k, (removed, added)) in self.keys.iter_mut().zip(staged) {
            for r in removed {
                k.set.remove(&r);
            }
            k.set.extend(added);
        }
        Ok(())
    }
}

impl UniqueIndex {
    /// The first row of `arrays` (key columns of the types of the constraint over `columns`)
    /// whose key is not in that constraint's set; rows with a NULL key column are skipped.
    /// `None` when every key is there, or when no constraint has exactly these columns.
    pub fn first_missing(&self, columns: &[String], arrays: &[ArrayRef]) -> Result<Option<usize>> {
        let Some(k) = self.keys.iter().find(|k| k.meta.columns == columns) else {
            return Err(Error::Internal(format!("no key over ({}) to check a foreign key against", columns.join(", "))));
        };
        let rows = k.converter.convert_columns(arrays)?;
        let n = arrays.first().map_or(0, |a| a.len());
        Ok((0..n).find(|&i| arrays.iter().all(|a| !a.is_null(i)) && !k.set.contains(rows.row(i).as_ref())))
    }

    /// Whether the constraint over `columns` holds `key`, encoded as `foreign_keys::encode`
    /// encodes keys of the constraint's types.
    pub fn contains_encoded(&self, columns: &[String], key: &[u8]) -> bool {
        self.keys.iter().find(|k| k.meta.columns == columns).is_some_and(|k| k.set.contains(key))
    }

    /// Whether the constraint over `columns` holds the key of row `row` of `arrays`.
    pub fn contains(&self, columns: &[String], arrays: &[ArrayRef], row: usize) -> Result<bool> {
        let Some(k) = self.keys.iter().find(|k| k.meta.columns == columns) else { return Ok(false) };
        let rows = k.converter.convert_columns(&arrays.iter().map(|a| a.slice(row, 1)).collect::<Vec<_>>())?;
        Ok(k.set.contains(rows.row(0).as_ref()))
    }
}

/// Encodes each row's key, `None` where a key column is NULL.
fn encode(k: &ConstraintKeys, batch: &RecordBatch) -> Result<Vec<Option<Box<[u8]>>>> {
    let arrays: Vec<ArrayRef> = k.columns.iter().map(|&i| batch.column(i).clone()).collect();
    let rows = k.converter.convert_columns(&arrays)?;
    Ok((0..batch.num_rows())
        .map(|i| {
            if arrays.iter().any(|a| a.is_null(i)) {
                None
            } else {
                Some(rows.row(i).as_ref().to_vec().into_boxed_slice())
            }
        })
        .collect())
}

/// PostgreSQL's DETAIL line: `Key (id)=(1) already exists.`
fn describe_key(k: &ConstraintKeys, batch: &RecordBatch, row: usize) -> String {
    let options = FormatOptions::default();
    let values: Vec<String> = k
        .columns
        .iter()
        .map(|&i| {
            ArrayFormatter::try_new(batch.column(i).as_ref(), &options)
                .map(|f| f.value(row).to_string())
                .unwrap_or_else(|_| "?".into())
        })
        .collect();
    format!("Key ({})=({}) already exists.", k.meta.columns.join(", "), values.join(", "))
}

impl ConstraintMeta {
    pub fn is_primary(&self) -> bool {
        self.kind == ConstraintKind::PrimaryKey
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("name", DataType::Utf8, true)])
    }

    fn batch(ids: &[i64], names: &[Option<&str>]) -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(schema()),
            vec![Arc::new(Int64Array::from(ids.to_vec())), Arc::new(StringArray::from(names.to_vec()))],
        )
        .unwrap()
    }

    fn index() -> UniqueIndex {
        let pk = ConstraintMeta::new("t_pkey".into(), ConstraintKind::PrimaryKey, vec!["id".into()]);
        let uq = ConstraintMeta::new("t_name_key".into(), ConstraintKind::Unique, vec!["name".into()]);
        UniqueIndex::new(&[pk, uq], &schema()).unwrap()
    }

    #[test]
    fn duplicates_are_rejected_with_postgres_detail() {
        let mut idx = index();
        idx.apply(&[], &[batch(&[1, 2], &[Some("a"), None])]).unwrap();
        let err = idx.apply(&[], &[batch(&[3, 1], &[Some("c"), Some("d")])]).unwrap_err();
        match err {
            Error::UniqueViolation { constraint, detail } => {
                assert_eq!(constraint, "t_pkey");
                assert_eq!(detail, "Key (id)=(1) already exists.");
            }
            other => panic!("unexpected {other:?}"),
        }
        // The failed statement left nothing behind: 3 is still free.
        idx.apply(&[], &[batch(&[3], &[Some("c")])]).unwrap();
    }

    #[test]
    fn duplicates_within_one_statement_and_nulls() {
        let mut idx = index();
        assert!(idx.apply(&[], &[batch(&[1, 1], &[None, None])]).is_err());
        // NULLs never conflict in a UNIQUE column.
        idx.apply(&[], &[batch(&[1, 2], &[None, None])]).unwrap();
    }

    #[test]
    fn deleting_a_key_frees_it_in_the_same_change() {
        let mut idx = index();
        idx.apply(&[], &[batch(&[1], &[Some("a")])]).unwrap();
        // UPDATE t SET name = 'a' WHERE id = 1 deletes the old row and inserts the new one.
        idx.apply(&[batch(&[1], &[Some("a")])], &[batch(&[1], &[Some("a")])]).unwrap();
        idx.apply(&[batch(&[1], &[Some("a")])], &[]).unwrap();
        idx.apply(&[], &[batch(&[1], &[Some("a")])]).unwrap();
    }
}
