//! FOREIGN KEY constraints: resolving a declared one against the referenced table, and the
//! checks a write makes.
//!
//! A referencing row's non-NULL key must be a key of the referenced table's PRIMARY KEY or
//! UNIQUE constraint, looked up in that table's in-memory key set (see [`crate::unique`]), which
//! already holds the transaction's own changes. A write that removes keys of a referenced table
//! reads the referencing tables' key columns and fails if a row still uses one (NO ACTION /
//! RESTRICT; CASCADE and SET NULL are refused at DDL time). Checks run at the end of each
//! statement, also for DEFERRABLE INITIALLY DEFERRED constraints (PostgreSQL would wait for
//! COMMIT): stricter, never weaker.

use std::collections::HashSet;

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use arrow::row::{RowConverter, SortField};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::TryStreamExt;
use lance::dataset::Dataset;

use crate::catalog::{Catalog, ConstraintMeta, ForeignKeyMeta, QualifiedName};
use crate::error::{Error, Result};

/// A FOREIGN KEY as declared, before it is resolved against the referenced table.
#[derive(Debug, Clone)]
pub struct NewForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: QualifiedName,
    /// Empty for the referenced table's PRIMARY KEY.
    pub ref_columns: Vec<String>,
    pub on_delete: char,
    pub on_update: char,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

/// Resolves `fk` of table `table` (whose columns have the types of `schema`) against the
/// referenced table, which is `own` itself for a self-reference.
pub fn resolve(catalog: &Catalog, db: &str, table: &QualifiedName, schema: &Schema, own: (&[ConstraintMeta], u32), fk: NewForeignKey) -> Result<ForeignKeyMeta> {
    let (constraints, ref_oid, ref_types) = if fk.ref_table == *table {
        (own.0.to_vec(), own.1, schema.clone())
    } else {
        let parent = catalog.table(db, &fk.ref_table)?;
        let types = Schema::new(parent.columns.iter().map(|c| arrow::datatypes::Field::new(&c.name, arrow::datatypes::DataType::Null, true)).collect::<Vec<_>>());
        (parent.constraints.clone(), parent.oid, types)
    };
    let ref_columns = if fk.ref_columns.is_empty() {
        constraints
            .iter()
            .find(|c| c.is_primary())
            .map(|c| c.columns.clone())
            .ok_or_else(|| Error::InvalidForeignKey(format!("there is no primary key for referenced table \"{}\"", fk.ref_table.name)))?
    } else {
        fk.ref_columns.clone()
    };
    if ref_columns.len() != fk.columns.len() {
        return Err(Error::InvalidForeignKey("number of referencing and referenced columns for foreign key disagree".into()));
    }
    for c in &fk.columns {
        schema.field_with_name(c).map_err(|_| Error::UnknownColumn { table: table.name.clone(), column: c.clone() })?;
    }
    for c in &ref_columns {
        ref_types.field_with_name(c).map_err(|_| Error::UnknownColumn { table: fk.ref_table.name.clone(), column: c.clone() })?;
    }
    if !constraints.iter().any(|c| c.columns == ref_columns) {
        return Err(Error::InvalidForeignKey(format!("there is no unique constraint matching given keys for referenced table \"{}\"", fk.ref_table.name)));
    }
    Ok(ForeignKeyMeta {
        name: fk.name,
        oid: 0,
        columns: fk.columns,
        ref_table: ref_oid,
        ref_columns,
        on_delete: fk.on_delete,
        on_update: fk.on_update,
        deferrable: fk.deferrable,
        initially_deferred: fk.initially_deferred,
        comment: None,
    })
}

/// Checks that the referencing columns can be compared with the referenced ones: the same type,
/// or integers of any width (keys are compared as the referenced columns' stored values).
pub fn check_types(fk: &ForeignKeyMeta, child: &Schema, parent: &Schema) -> Result<()> {
    let integer = |t: &DataType| matches!(t, DataType::Int16 | DataType::Int32 | DataType::Int64);
    for (c, p) in fk.columns.iter().zip(&fk.ref_columns) {
        let (ct, pt) = (child.field_with_name(c)?.data_type(), parent.field_with_name(p)?.data_type());
        if ct != pt && !(integer(ct) && integer(pt)) {
            return Err(Error::IndexTypeMismatch(format!(
                "foreign key constraint \"{}\" cannot be implemented: key columns \"{c}\" and \"{p}\" are of incompatible types",
                fk.name
            )));
        }
    }
    Ok(())
}

/// A key set of the referenced table's constraint over `columns`, built by one scan (for
/// checking the existing rows of a foreign key being added).
pub async fn key_set(parent: &crate::catalog::TableMeta, dataset: &Dataset, columns: &[String]) -> Result<crate::unique::UniqueIndex> {
    let constraint = parent.constraints.iter().find(|c| c.columns == columns).ok_or_else(|| Error::Internal("referenced key".into()))?;
    // Only the key columns are read.
    let table = crate::store::table_schema(dataset);
    let positions = columns.iter().map(|c| table.index_of(c)).collect::<std::result::Result<Vec<_>, _>>()?;
    let schema = table.project(&positions)?;
    let mut index = crate::unique::UniqueIndex::new(std::slice::from_ref(constraint), &schema)?;
    let mut scanner = dataset.scan();
    scanner.project(&columns.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut stream = scanner.try_into_stream().await?;
    while let Some(batch) = stream.try_next().await? {
        index.load(&batch)?;
    }
    Ok(index)
}

/// Referencing key columns as the referenced columns' `types` (an `int` key read against a
/// `bigint` one, and back), and the first row holding a value those types cannot (which then
/// cannot be present among the referenced keys).
pub fn as_types(arrays: Vec<ArrayRef>, types: &[DataType]) -> Result<(Vec<ArrayRef>, Option<usize>)> {
    let mut out = Vec::with_capacity(arrays.len());
    let mut lost: Option<usize> = None;
    for (a, t) in arrays.into_iter().zip(types) {
        if a.data_type() == t {
            out.push(a);
            continue;
        }
        let cast = arrow::compute::cast(&a, t)?;
        if let Some(row) = (0..a.len()).find(|&i| !a.is_null(i) && cast.is_null(i)) {
            lost = Some(lost.map_or(row, |l| l.min(row)));
        }
        out.push(cast);
    }
    Ok((out, lost))
}

/// The first row of `batch` whose key of `fk` is not among the referenced keys (`index`, of the
/// referenced columns' `types`), as the 23503 PostgreSQL reports for table `child` referencing
/// `parent`.
pub fn check_present(index: &crate::unique::UniqueIndex, fk: &ForeignKeyMeta, types: &[DataType], batch: &RecordBatch, child: &str, parent: &str) -> Result<()> {
    let original = key_columns(batch, &fk.columns)?;
    let (arrays, lost) = as_types(original.clone(), types)?;
    let missing = match lost {
        Some(row) => Some(row),
        None => index.first_missing(&fk.ref_columns, &arrays)?,
    };
    match missing {
        None => Ok(()),
        Some(row) => Err(Error::ForeignKeyViolation {
            message: format!("insert or update on table \"{child}\" violates foreign key constraint \"{}\"", fk.name),
            detail: format!("{} is not present in table \"{parent}\".", describe(&fk.columns, &original, row)),
        }),
    }
}

/// The types of `columns` in `schema`.
pub fn types_of(schema: &Schema, columns: &[String]) -> Result<Vec<DataType>> {
    columns.iter().map(|c| Ok(schema.field_with_name(c)?.data_type().clone())).collect()
}

/// The key columns of `fk` in `batch`.
pub fn key_columns(batch: &RecordBatch, columns: &[String]) -> Result<Vec<ArrayRef>> {
    columns.iter().map(|c| Ok(batch.column(batch.schema().index_of(c)?).clone())).collect()
}

/// PostgreSQL's `Key (a, b)=(1, 2)` of row `row`.
pub fn describe(columns: &[String], arrays: &[ArrayRef], row: usize) -> String {
    let options = FormatOptions::default();
    let values: Vec<String> = arrays
        .iter()
        .map(|a| ArrayFormatter::try_new(a.as_ref(), &options).map(|f| f.value(row).to_string()).unwrap_or_else(|_| "?".into()))
        .collect();
    format!("Key ({})=({})", columns.join(", "), values.join(", "))
}

/// Encoded keys of rows without a NULL key column, with the row each came from.
pub fn encode(arrays: &[ArrayRef]) -> Result<Vec<(usize, Box<[u8]>)>> {
    let Some(first) = arrays.first() else { return Ok(Vec::new()) };
    let converter = RowConverter::new(arrays.iter().map(|a| SortField::new(a.data_type().clone())).collect())?;
    let rows = converter.convert_columns(arrays)?;
    Ok((0..first.len()).filter(|&i| arrays.iter().all(|a| !a.is_null(i))).map(|i| (i, rows.row(i).as_ref().to_vec().into_boxed_slice())).collect())
}

/// Fails with 23503 if a row of the referencing table (`dataset`) uses one of `removed` keys of
/// the referenced table (encoded as [`encode`] encodes them); reported as PostgreSQL reports a
/// missing key of an `inserted` referencing row, else as a referenced key that went away.
pub async fn check_still_referenced(dataset: &Dataset, child: &QualifiedName, fk: &ForeignKeyMeta, parent: &str, removed: &HashSet<Box<[u8]>>, parent_types: &[DataType], inserted: bool) -> Result<()> {
    let names: Vec<&str> = fk.columns.iter().map(String::as_str).collect();
    let mut scanner = dataset.scan();
    scanner.project(&names)?;
    let mut stream = scanner.try_into_stream().await?;
    while let Some(batch) = stream.try_next().await? {
        // A value the referenced type cannot hold matches no removed key (it becomes NULL).
        let (arrays, _) = as_types(key_columns(&batch, &fk.columns)?, parent_types)?;
        for (row, key) in encode(&arrays)? {
            if removed.contains(&key) && inserted {
                return Err(Error::ForeignKeyViolation {
                    message: format!("insert or update on table \"{}\" violates foreign key constraint \"{}\"", child.name, fk.name),
                    detail: format!("{} is not present in table \"{parent}\".", describe(&fk.columns, &arrays, row)),
                });
            }
            if removed.contains(&key) {
                let detail = format!("{} is still referenced from table \"{}\".", describe(&fk.ref_columns, &arrays, row), child.name);
                return Err(Error::ForeignKeyViolation {
                    message: format!("update or delete on table \"{parent}\" violates foreign key constraint \"{}\" on table \"{}\"", fk.name, child.name),
                    detail,
                });
            }
        }
    }
    Ok(())
}
