//! `LIKE … ESCAPE 'c'` with any escape character (SQLAlchemy escapes with `/`).
//!
//! DataFusion's LIKE kernels know only the backslash. A pattern with another escape character is
//! rewritten into the same pattern in backslash form by [`like_escape`], a function of the
//! pattern (so it also works for patterns that are columns or parameters; a constant one is
//! folded once when planned).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{ColumnarValue, Expr, Like, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::optimizer::AnalyzerRule;

use crate::error::Error;

/// A pattern written with escape character `escape`, in the backslash form DataFusion reads.
pub fn to_backslash_form(pattern: &str, escape: char) -> Result<String, Error> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            let Some(next) = chars.next() else {
                return Err(Error::InvalidEscape("LIKE pattern must not end with escape character".into()));
            };
            // An escaped character stands for itself; only these mean more in backslash form.
            if matches!(next, '%' | '_' | '\\') {
                out.push('\\');
            }
            out.push(next);
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `quartz_like_escape(pattern, escape)`: the pattern in backslash form.
#[derive(Debug, PartialEq, Eq, Hash)]
struct LikeEscapeFunction {
    signature: Signature,
}

impl ScalarUDFImpl for LikeEscapeFunction {
    fn name(&self) -> &str {
        "quartz_like_escape"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [pattern, escape] = arrays.as_slice() else { return Err(Error::Internal("quartz_like_escape takes two arguments".into()).into()) };
        let (pattern, escape) = (pattern.as_string::<i32>(), escape.as_string::<i32>());
        let mut out = StringBuilder::with_capacity(n, n * 8);
        for i in 0..n {
            if pattern.is_null(i) || escape.is_null(i) {
                out.append_null();
                continue;
            }
            let mut e = escape.value(i).chars();
            let (Some(c), None) = (e.next(), e.next()) else {
                return Err(Error::InvalidEscape("invalid escape string".into()).into());
            };
            out.append_value(to_backslash_form(pattern.value(i), c)?);
        }
        let array: ArrayRef = Arc::new(out.finish());
        crate::functions::output(array, args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))))
    }
}

/// Rewrites `LIKE`/`ILIKE` with an escape character other than the backslash.
#[derive(Debug)]
pub struct LikeEscape {
    udf: Arc<ScalarUDF>,
}

impl Default for LikeEscape {
    fn default() -> Self {
        let signature = Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable);
        Self { udf: Arc::new(ScalarUDF::new_from_impl(LikeEscapeFunction { signature })) }
    }
}

impl AnalyzerRule for LikeEscape {
    fn name(&self) -> &str {
        "quartz_like_escape"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::rewrite::rewrite_expressions(plan, |e, _| {
            let Expr::Like(like) = e else { return Ok(Transformed::no(e)) };
            let Some(escape) = like.escape_char.filter(|c| *c != '\\') else { return Ok(Transformed::no(Expr::Like(like))) };
            let text = |e: Expr| Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), DataType::Utf8));
            let args = vec![text(*like.pattern), Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(escape.to_string())), None)];
            let pattern = Expr::ScalarFunction(ScalarFunction::new_udf(self.udf.clone(), args));
            Ok(Transformed::yes(Expr::Like(Like { pattern: Box::new(pattern), escape_char: None, ..like })))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_keep_their_meaning_in_backslash_form() {
        assert_eq!(to_backslash_form("pg/_%", '/').unwrap(), "pg\\_%");
        assert_eq!(to_backslash_form("a//b", '/').unwrap(), "a/b");
        assert_eq!(to_backslash_form("c:\\dir#%", '#').unwrap(), "c:\\\\dir\\%");
        assert_eq!(to_backslash_form("#a", '#').unwrap(), "a");
        assert!(matches!(to_backslash_form("ab#", '#'), Err(Error::InvalidEscape(_))));
    }
}
