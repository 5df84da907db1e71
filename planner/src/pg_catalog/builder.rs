//! Column-at-a-time construction of catalog tables from a list of rows, so each table reads as
//! its PostgreSQL column list: `.oid("oid", |r| r.oid).text("relname", |r| ...)`.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanArray, Float32Array, Int16Array, Int16Builder, Int32Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    UInt32Array, UInt32Builder,
};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::error::Result;

pub struct Table<'a, R> {
    rows: &'a [R],
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

impl<'a, R> Table<'a, R> {
    pub fn new(rows: &'a [R]) -> Self {
        Self { rows, fields: Vec::new(), columns: Vec::new() }
    }

    fn push(mut self, field: Field, column: ArrayRef) -> Self {
        self.fields.push(field);
        self.columns.push(column);
        self
    }

    fn plain(self, name: &str, column: ArrayRef) -> Self {
        let field = Field::new(name, column.data_type().clone(), true);
        self.push(field, column)
    }

    pub fn oid(self, name: &str, f: impl Fn(&R) -> u32) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<UInt32Array>());
        self.plain(name, a)
    }

    pub fn i16(self, name: &str, f: impl Fn(&R) -> i16) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<Int16Array>());
        self.plain(name, a)
    }

    pub fn i32(self, name: &str, f: impl Fn(&R) -> i32) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<Int32Array>());
        self.plain(name, a)
    }

    pub fn i64(self, name: &str, f: impl Fn(&R) -> i64) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<arrow::array::Int64Array>());
        self.plain(name, a)
    }

    pub fn opt_i64(self, name: &str, f: impl Fn(&R) -> Option<i64>) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<arrow::array::Int64Array>());
        self.plain(name, a)
    }

    /// A `bigint` column of NULLs.
    pub fn null_i64(self, name: &str) -> Self {
        self.opt_i64(name, |_| None)
    }

    pub fn f32(self, name: &str, f: impl Fn(&R) -> f32) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<Float32Array>());
        self.plain(name, a)
    }

    /// `timestamptz` from microseconds since the Unix epoch.
    pub fn timestamptz(self, name: &str, f: impl Fn(&R) -> Option<i64>) -> Self {
        let a = arrow::array::TimestampMicrosecondArray::from(self.rows.iter().map(f).collect::<Vec<_>>()).with_timezone("+00:00");
        self.plain(name, Arc::new(a))
    }

    pub fn bool(self, name: &str, f: impl Fn(&R) -> bool) -> Self {
        let a = Arc::new(self.rows.iter().map(|r| Some(f(r))).collect::<BooleanArray>());
        self.plain(name, a)
    }

    pub fn text(self, name: &str, f: impl Fn(&R) -> Option<String>) -> Self {
        let a = Arc::new(self.rows.iter().map(f).collect::<StringArray>());
        self.plain(name, a)
    }

    /// A column that is always NULL (ACLs, options, expressions QuartzDB has none of).
    pub fn null_text(self, name: &str) -> Self {
        self.text(name, |_| None)
    }

    /// PostgreSQL's one-byte `"char"` (relkind, contype, ...): text on the wire, typed `"char"`;
    /// `'\0'` is the empty value (`attidentity` of an ordinary column).
    pub fn char(self, name: &str, f: impl Fn(&R) -> char) -> Self {
        let text = |c: char| if c == '\0' { String::new() } else { c.to_string() };
        let a: ArrayRef = Arc::new(self.rows.iter().map(|r| Some(text(f(r)))).collect::<StringArray>());
        let field = Field::new(name, DataType::Utf8, true).with_metadata(crate::types::field_metadata("\"char\""));
        self.push(field, a)
    }

    pub fn i16_list(self, name: &str, f: impl Fn(&R) -> Option<Vec<i16>>) -> Self {
        self.list(name, Int16Builder::new(), f)
    }

    pub fn oid_list(self, name: &str, f: impl Fn(&R) -> Option<Vec<u32>>) -> Self {
        self.list(name, UInt32Builder::new(), f)
    }

    /// An `int2vector` column (`pg_index.indkey`): an array in SQL, sent as PostgreSQL sends
    /// that type (`1 2`, type OID 22).
    pub fn int2vector(self, name: &str, f: impl Fn(&R) -> Option<Vec<i16>>) -> Self {
        self.i16_list(name, f).marked(crate::types::INT2VECTOR)
    }

    /// An `oidvector` column (`pg_index.indclass`), sent as that type (`0 0`, type OID 30).
    pub fn oidvector(self, name: &str, f: impl Fn(&R) -> Option<Vec<u32>>) -> Self {
        self.oid_list(name, f).marked(crate::types::OIDVECTOR)
    }

    /// Marks the last column as being of PostgreSQL type `pg_type`.
    fn marked(mut self, pg_type: &str) -> Self {
        if let Some(f) = self.fields.pop() {
            self.fields.push(f.with_metadata(crate::types::field_metadata(pg_type)));
        }
        self
    }

    pub fn text_list(self, name: &str, f: impl Fn(&R) -> Option<Vec<String>>) -> Self {
        self.list(name, StringBuilder::new(), f)
    }

    /// An array column (`indkey`, `reloptions`, ...); `None` is SQL NULL.
    fn list<B: ArrayBuilder + Extend<Option<T>>, T>(self, name: &str, values: B, f: impl Fn(&R) -> Option<Vec<T>>) -> Self {
        let mut b = ListBuilder::new(values);
        for r in self.rows {
            match f(r) {
                Some(v) => b.append_value(v.into_iter().map(Some)),
                None => b.append_null(),
            }
        }
        let a = Arc::new(b.finish());
        self.plain(name, a)
    }

    pub fn finish(self) -> Result<RecordBatch> {
        Ok(RecordBatch::try_new(Arc::new(Schema::new(self.fields)), self.columns)?)
    }
}
