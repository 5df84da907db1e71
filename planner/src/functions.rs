//! PostgreSQL functions DataFusion does not provide, registered on every session.
//!
//! - `version()`: PostgreSQL-style version string naming QuartzDB.
//! - `current_database()`, `current_schema()`, `current_user`, `session_user`, `pg_backend_pid()`.
//! - `nextval(regclass)`, `currval(regclass)`: sequences, stored durably in the catalog.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// Turns a one-row result back into a scalar when every input was a scalar.
pub fn output(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

/// A one-argument function's input as an array (one row when it is a scalar), and whether it
/// was a scalar, for [`output`].
pub fn single_input(args: &ScalarFunctionArgs) -> Result<(ArrayRef, bool)> {
    let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
    Ok((args.args[0].to_array(if scalar { 1 } else { args.number_rows })?, scalar))
}

/// Every argument as an array (one row when all are scalars), and whether they all were, for
/// [`output`].
pub fn inputs(args: &ScalarFunctionArgs) -> Result<(Vec<ArrayRef>, bool)> {
    let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if scalar { 1 } else { args.number_rows };
    Ok((args.args.iter().map(|a| a.to_array(rows)).collect::<Result<_>>()?, scalar))
}

/// A function of no arguments returning a fixed string for the session.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ConstText {
    name: &'static str,
    value: String,
    signature: Signature,
}

impl ScalarUDFImpl for ConstText {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(self.value.clone()))))
    }
}

/// A function of no arguments returning a fixed integer for the session.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ConstInt {
    name: &'static str,
    value: i32,
    signature: Signature,
}

impl ScalarUDFImpl for ConstInt {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }
    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Int32(Some(self.value))))
    }
}

/// Session-fixed functions: `version()`, `current_database()`, `current_schema()`,
/// `current_user`, `session_user`, `pg_backend_pid()`.
pub fn session_functions(database: &str, user: &str, pid: i32) -> Vec<ScalarUDF> {
    let text = |name: &'static str, value: String| {
        ScalarUDF::new_from_impl(ConstText { name, value, signature: Signature::exact(vec![], Volatility::Stable) })
    };
    vec![
        text("version", crate::version_string()),
        text("current_database", database.to_string()),
        text("current_schema", "public".to_string()),
        text("current_user", user.to_string()),
        text("session_user", user.to_string()),
        ScalarUDF::new_from_impl(ConstInt {
            name: "pg_backend_pid",
            value: pid,
            signature: Signature::exact(vec![], Volatility::Stable),
        }),
    ]
}

/// `nextval('name')`: one new value per row; volatile, so each row and each call gets its own.
#[derive(Debug)]
pub struct NextVal {
    source: crate::catalog_provider::CatalogSource,
    database: String,
    signature: Signature,
}

impl PartialEq for NextVal {
    fn eq(&self, other: &Self) -> bool {
        self.database == other.database && Arc::ptr_eq(self.source.scope(), other.source.scope())
    }
}
impl Eq for NextVal {}
impl std::hash::Hash for NextVal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.database.hash(state);
    }
}

impl NextVal {
    pub fn udf(source: crate::catalog_provider::CatalogSource, database: &str) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            source,
            database: database.to_string(),
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Volatile),
        })
    }
}

impl ScalarUDFImpl for NextVal {
    fn name(&self) -> &str {
        "nextval"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let names: ArrayRef = args.args[0].to_array(rows)?;
        let names = names.as_any().downcast_ref::<StringArray>().expect("signature guarantees Utf8");
        use arrow::array::Array as _;
        let mut out = Vec::with_capacity(rows);
        // Consecutive rows usually name the same sequence: allocate them in one step.
        let mut i = 0;
        while i < rows {
            if names.is_null(i) {
                out.push(None);
                i += 1;
                continue;
            }
            let name = names.value(i);
            let mut j = i + 1;
            while j < rows && !names.is_null(j) && names.value(j) == name {
                j += 1;
            }
            let qname = sequence_name(name)?;
            let values = self.source.storage().nextval(&self.database, &qname, j - i, self.source.txn().as_deref()).map_err(crate::Error::from)?;
            out.extend(values.into_iter().map(Some));
            i = j;
        }
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from(out))))
    }
}

/// `setval('name', value [, is_called])`: sets the sequence for each row (the last row's value
/// stays) and returns the value, as PostgreSQL's does.
#[derive(Debug)]
pub struct SetVal {
    next: NextVal,
}

impl PartialEq for SetVal {
    fn eq(&self, other: &Self) -> bool {
        self.next == other.next
    }
}
impl Eq for SetVal {}
impl std::hash::Hash for SetVal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.next.hash(state);
    }
}

impl SetVal {
    pub fn udf(source: crate::catalog_provider::CatalogSource, database: &str) -> ScalarUDF {
        use datafusion::logical_expr::TypeSignature;
        let signature = Signature::one_of(
            vec![TypeSignature::Exact(vec![DataType::Utf8, DataType::Int64]), TypeSignature::Exact(vec![DataType::Utf8, DataType::Int64, DataType::Boolean])],
            Volatility::Volatile,
        );
        ScalarUDF::new_from_impl(Self { next: NextVal { source, database: database.to_string(), signature } })
    }
}

impl ScalarUDFImpl for SetVal {
    fn name(&self) -> &str {
        "setval"
    }
    fn signature(&self) -> &Signature {
        &self.next.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::Array as _;
        let rows = args.number_rows;
        let names = args.args[0].to_array(rows)?;
        let names = names.as_any().downcast_ref::<StringArray>().expect("signature guarantees Utf8");
        let values = args.args[1].to_array(rows)?;
        let values = values.as_any().downcast_ref::<Int64Array>().expect("signature guarantees Int64");
        let called = match args.args.get(2) {
            Some(c) => Some(c.to_array(rows)?),
            None => None,
        };
        let called = called.as_ref().map(|c| c.as_any().downcast_ref::<arrow::array::BooleanArray>().expect("signature guarantees Boolean"));
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            if names.is_null(i) || values.is_null(i) || called.is_some_and(|c| c.is_null(i)) {
                out.push(None);
                continue;
            }
            let is_called = called.is_none_or(|c| c.value(i));
            let qname = sequence_name(names.value(i))?;
            self.next.source.storage().setval(&self.next.database, &qname, values.value(i), is_called, self.next.source.txn().as_deref()).map_err(crate::Error::from)?;
            out.push(Some(values.value(i)));
        }
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from(out))))
    }
}

/// Parses the text form of a regclass naming a sequence: `name`, `schema.name`, quoted parts.
fn sequence_name(text: &str) -> Result<quartzdb_storage::QualifiedName> {
    let parsed = match quartzdb_sql::parse(&format!("SELECT * FROM {text}")) {
        Ok(mut s) if s.len() == 1 => s.remove(0),
        _ => return exec_err!("invalid sequence name \"{text}\""),
    };
    use datafusion::sql::sqlparser::ast::{SetExpr, Statement, TableFactor};
    if let Statement::Query(q) = parsed
        && let SetExpr::Select(sel) = q.body.as_ref()
        && let Some(TableFactor::Table { name, .. }) = sel.from.first().map(|t| &t.relation)
    {
        return crate::names::qualified(name, "", "public").map_err(|e| e.into());
    }
    exec_err!("invalid sequence name \"{text}\"")
}
