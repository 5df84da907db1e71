//! `set_config(name, value, is_local)`, as pg_dump's scripts and some drivers call it:
//! `SELECT pg_catalog.set_config('search_path', '', false)`. A statement that is only that call,
//! with constant arguments, runs as `SET [LOCAL]` and returns the new value (the session runs
//! it: settings are the session's, not something a query can change while it runs). The
//! function itself exists so that such a statement can be described before it runs; called in
//! any other query it fails with 0A000.

use arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::sql::sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, SelectItem, SetExpr, Value};

#[derive(Debug, PartialEq, Eq, Hash)]
struct SetConfig {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(SetConfig { signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8, DataType::Boolean], Volatility::Volatile) })
}

impl ScalarUDFImpl for SetConfig {
    fn name(&self) -> &str {
        "set_config"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Err(crate::Error::Unsupported("set_config() other than as a statement of its own with constant arguments (SELECT set_config('name', 'value', false))".into()).into())
    }
}

/// `(name, value, is_local)` when `q` is `SELECT [pg_catalog.]set_config('name', 'value', bool)`
/// and nothing else.
pub fn call(q: &Query) -> Option<(String, String, bool)> {
    if q.with.is_some() || q.order_by.is_some() || q.limit_clause.is_some() {
        return None;
    }
    let SetExpr::Select(select) = q.body.as_ref() else { return None };
    if !select.from.is_empty() || select.selection.is_some() || select.projection.len() != 1 {
        return None;
    }
    let (SelectItem::UnnamedExpr(Expr::Function(f)) | SelectItem::ExprWithAlias { expr: Expr::Function(f), .. }) = &select.projection[0] else { return None };
    let name = f.name.to_string().to_ascii_lowercase();
    if name != "set_config" && name != "pg_catalog.set_config" {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else { return None };
    let values: Vec<&Value> = list
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => Some(&v.value),
            _ => None,
        })
        .collect();
    match values.as_slice() {
        [Value::SingleQuotedString(name), Value::SingleQuotedString(value), Value::Boolean(local)] => Some((name.clone(), value.clone(), *local)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(sql: &str) -> Query {
        match quartzdb_sql::parse(sql).unwrap().remove(0) {
            datafusion::sql::sqlparser::ast::Statement::Query(q) => *q,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn only_a_lone_call_with_constants_is_a_setting() {
        assert_eq!(call(&query("SELECT pg_catalog.set_config('search_path', '', false)")), Some(("search_path".into(), String::new(), false)));
        assert_eq!(call(&query("SELECT set_config('TimeZone', 'UTC', true) AS v")), Some(("TimeZone".into(), "UTC".into(), true)));
        assert_eq!(call(&query("SELECT set_config(name, 'x', false) FROM t")), None);
        assert_eq!(call(&query("SELECT 1")), None);
    }
}
