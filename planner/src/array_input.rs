//! Reading PostgreSQL's array text (`{1,2,3}`, `{"a b",NULL,"say \"hi\""}`) for casts from text
//! to `T[]`: `'{1,2}'::int[]`, an INSERT's or COPY's text for an array column. Arrow's cast would
//! make the whole text one element.
//!
//! An analyzer rule (after type coercion) turns `CAST(text AS T[])` into
//! `CAST(__quartz_text_array(text) AS T[])`: the function splits the text into a list of
//! element texts, and Arrow's list cast reads each as `T`. One-dimensional arrays only.
//! Another (before type coercion) reads a text literal compared with an array as that array's
//! type, as PostgreSQL types an unknown literal (`polroles = '{0}'` in psql's `\d`).

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::optimizer::AnalyzerRule;


/// A malformed array text (22P02).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed array literal: \"{0}\"")]
pub struct MalformedArray(pub String);

impl From<MalformedArray> for datafusion::error::DataFusionError {
    fn from(e: MalformedArray) -> Self {
        datafusion::error::DataFusionError::External(Box::new(crate::Error::MalformedArray(e)))
    }
}

/// The elements of a one-dimensional array text: `None` for an unquoted NULL.
pub fn parse(text: &str) -> Result<Vec<Option<String>>, MalformedArray> {
    let bad = || MalformedArray(text.to_string());
    let t = text.trim();
    let inner = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')).ok_or_else(bad)?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next().ok_or_else(bad)? {
                    '"' => break,
                    '\\' => value.push(chars.next().ok_or_else(bad)?),
                    c => value.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' || c == '}' || c == '"' {
                    return Err(bad());
                }
                chars.next();
                if c == '\\' {
                    value.push(chars.next().ok_or_else(bad)?);
                } else {
                    value.push(c);
                }
            }
            value = value.trim_end().to_string();
            if value.is_empty() {
                return Err(bad());
            }
        }
        out.push(if !quoted && value.eq_ignore_ascii_case("null") { None } else { Some(value) });
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(_) => return Err(bad()),
        }
    }
    Ok(out)
}

/// `__quartz_text_array(text)`: the element texts of an array text, as a list of text.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TextArray {
    signature: Signature,
}

pub const TEXT_ARRAY: &str = "__quartz_text_array";

impl ScalarUDFImpl for TextArray {
    fn name(&self) -> &str {
        TEXT_ARRAY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (input, scalar) = crate::functions::single_input(&args)?;
        let text = arrow::compute::cast(&input, &DataType::Utf8)?;
        let mut builder = ListBuilder::new(StringBuilder::new());
        for value in text.as_string::<i32>().iter() {
            match value {
                None => builder.append_null(),
                Some(v) => {
                    for element in parse(v)? {
                        builder.values().append_option(element);
                    }
                    builder.append(true);
                }
            }
        }
        let out: ArrayRef = Arc::new(builder.finish());
        crate::functions::output(out, scalar)
    }
}

/// Puts [`TextArray`] under casts from text to arrays.
#[derive(Debug)]
pub struct ArrayTextCasts {
    udf: Arc<ScalarUDF>,
}

impl Default for ArrayTextCasts {
    fn default() -> Self {
        Self { udf: Arc::new(ScalarUDF::new_from_impl(TextArray { signature: Signature::any(1, Volatility::Immutable) })) }
    }
}

impl ArrayTextCasts {
    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let Expr::Cast(Cast { expr, field }) = e else { return Ok(Transformed::no(e)) };
        let text = matches!(expr.get_type(schema), Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View));
        if !(text && matches!(field.data_type(), DataType::List(_) | DataType::LargeList(_))) || crate::vector::is_vector_field(&field) {
            return Ok(Transformed::no(Expr::Cast(Cast { expr, field })));
        }
        let elements = Expr::ScalarFunction(ScalarFunction::new_udf(self.udf.clone(), vec![*expr]));
        Ok(Transformed::yes(Expr::Cast(Cast { expr: Box::new(elements), field })))
    }
}

impl AnalyzerRule for ArrayTextCasts {
    fn name(&self) -> &str {
        "quartz_array_text_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::rewrite::rewrite_expressions(plan, |e, schema| self.rewrite(e, schema))
    }
}

/// Casts a text literal compared with an array to the array's type (before type coercion,
/// which has no common type for a list and text).
#[derive(Debug, Default)]
pub struct ArrayTextComparisons;

impl AnalyzerRule for ArrayTextComparisons {
    fn name(&self) -> &str {
        "quartz_array_text_comparisons"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        use datafusion::logical_expr::BinaryExpr;
        crate::rewrite::rewrite_expressions(plan, |e, schema| {
            // `x = ANY('{1,2}')`: the text is an array of x's type, as PostgreSQL reads it.
            if let Expr::ScalarFunction(f) = &e
                && f.name() == "array_has"
                && let [Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(_)), _), x] = f.args.as_slice()
                && let Ok(t) = x.get_type(schema)
                && t != DataType::Null
            {
                let mut f = f.clone();
                let list = DataType::List(Arc::new(Field::new_list_field(t, true)));
                f.args[0] = Expr::Cast(Cast::new(Box::new(f.args[0].clone()), list));
                return Ok(Transformed::yes(Expr::ScalarFunction(f)));
            }
            let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else { return Ok(Transformed::no(e)) };
            let list = |e: &Expr| match e.get_type(schema) {
                Ok(t @ DataType::List(_)) => Some(t),
                _ => None,
            };
            let text = |e: &Expr| matches!(e, Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(_)), _));
            let cast = |e: Box<Expr>, t: DataType| Box::new(Expr::Cast(Cast::new(e, t)));
            use datafusion::logical_expr::Operator::*;
            let comparison = matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom);
            let (left, right) = match (list(&left), list(&right)) {
                (Some(t), None) if comparison && text(&right) => (left, cast(right, t)),
                (None, Some(t)) if comparison && text(&left) => (cast(left, t), right),
                _ => return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right }))),
            };
            Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr { left, op, right })))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn reads_postgresql_array_text() {
        assert_eq!(parse("{1,2,3}").unwrap(), vec![s("1"), s("2"), s("3")]);
        assert_eq!(parse(" { a , \"b c\" ,NULL,\"NULL\",\"say \\\"hi\\\"\"} ").unwrap(), vec![s("a"), s("b c"), None, s("NULL"), s("say \"hi\"")]);
        assert_eq!(parse("{}").unwrap(), vec![]);
        for bad in ["1,2", "{1,,2}", "{\"open}", "{1,2", "{{1},{2}}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
