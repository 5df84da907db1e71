//! Reading PostgreSQL's `bytea` text for casts from text to `bytea`: `'\x0102'::bytea`, an
//! INSERT's, COPY's or text parameter's value for a bytea column. Arrow's cast would store the
//! text's own bytes (`\x0102` as six bytes).
//!
//! Both input forms are read: hex (`\x` then pairs of hex digits, whitespace between pairs) and
//! escape (`\\` for a backslash, `\ooo` for an octal byte, any other character as itself). An
//! analyzer rule (after type coercion) turns `CAST(text AS bytea)` into
//! `CAST(__quartz_bytea_in(text) AS bytea)`.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BinaryBuilder};
use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::optimizer::AnalyzerRule;

/// A malformed bytea text: 22023 for bad hex, 22P02 for a bad escape, as in PostgreSQL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidBytea {
    #[error("invalid hexadecimal data: odd number of digits")]
    OddHex,
    #[error("invalid hexadecimal digit: \"{0}\"")]
    HexDigit(char),
    #[error("invalid input syntax for type bytea")]
    Syntax,
}

impl From<InvalidBytea> for datafusion::error::DataFusionError {
    fn from(e: InvalidBytea) -> Self {
        datafusion::error::DataFusionError::External(Box::new(crate::Error::InvalidBytea(e)))
    }
}

/// The bytes a bytea text stands for.
pub fn parse(text: &str) -> std::result::Result<Vec<u8>, InvalidBytea> {
    let bytes = text.as_bytes();
    if let Some(hex) = text.strip_prefix("\\x").or_else(|| text.strip_prefix("\\X")) {
        // Whitespace may come between pairs of digits, not inside one.
        let mut out = Vec::with_capacity(hex.len() / 2);
        let mut chars = hex.chars();
        let value = |c: char| c.to_digit(16).map(|v| v as u8).ok_or(InvalidBytea::HexDigit(c));
        while let Some(hi) = chars.by_ref().find(|c| !c.is_ascii_whitespace()) {
            let hi = value(hi)?;
            let lo = value(chars.next().ok_or(InvalidBytea::OddHex)?)?;
            out.push(hi << 4 | lo);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = bytes.get(i + 1..i + 4).filter(|d| d[0] <= b'3' && d.iter().all(|c| (b'0'..=b'7').contains(c))).ok_or(InvalidBytea::Syntax)?;
            out.push(octal.iter().fold(0u8, |v, d| v * 8 + (d - b'0')));
            i += 4;
        }
    }
    Ok(out)
}

/// `__quartz_bytea_in(text)`: the bytes of a bytea text.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ByteaIn {
    signature: Signature,
}

pub const BYTEA_IN: &str = "__quartz_bytea_in";

impl ScalarUDFImpl for ByteaIn {
    fn name(&self) -> &str {
        BYTEA_IN
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (input, scalar) = crate::functions::single_input(&args)?;
        let text = arrow::compute::cast(&input, &DataType::Utf8)?;
        let mut builder = BinaryBuilder::new();
        for value in text.as_string::<i32>().iter() {
            match value {
                None => builder.append_null(),
                Some(v) => builder.append_value(parse(v)?),
            }
        }
        let out: ArrayRef = Arc::new(builder.finish());
        crate::functions::output(out, scalar)
    }
}

/// Puts [`ByteaIn`] under casts from text to bytea.
#[derive(Debug)]
pub struct ByteaTextCasts {
    udf: Arc<ScalarUDF>,
}

impl Default for ByteaTextCasts {
    fn default() -> Self {
        Self { udf: Arc::new(ScalarUDF::new_from_impl(ByteaIn { signature: Signature::any(1, Volatility::Immutable) })) }
    }
}

impl ByteaTextCasts {
    fn rewrite(&self, e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let Expr::Cast(Cast { expr, field }) = e else { return Ok(Transformed::no(e)) };
        let text = matches!(expr.get_type(schema), Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View));
        let bytea = matches!(field.data_type(), DataType::Binary | DataType::LargeBinary | DataType::BinaryView);
        if !(text && bytea) {
            return Ok(Transformed::no(Expr::Cast(Cast { expr, field })));
        }
        let bytes = Expr::ScalarFunction(ScalarFunction::new_udf(self.udf.clone(), vec![*expr]));
        Ok(Transformed::yes(Expr::Cast(Cast { expr: Box::new(bytes), field })))
    }
}

impl AnalyzerRule for ByteaTextCasts {
    fn name(&self) -> &str {
        "quartz_bytea_text_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::rewrite::rewrite_expressions(plan, |e, schema| self.rewrite(e, schema))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hex_and_escape_forms_as_postgresql_does() {
        // Each checked against PostgreSQL 15's bytea input.
        assert_eq!(parse("\\x0001ff").unwrap(), vec![0, 1, 255]);
        assert_eq!(parse("\\xDEAD beef").unwrap(), vec![0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(parse("\\x").unwrap(), Vec::<u8>::new());
        assert_eq!(parse("abc").unwrap(), b"abc".to_vec());
        assert_eq!(parse("a\\000b\\\\c\\101").unwrap(), vec![b'a', 0, b'b', b'\\', b'c', b'A']);
        assert_eq!(parse("\\x0"), Err(InvalidBytea::OddHex));
        assert_eq!(parse("\\x0g"), Err(InvalidBytea::HexDigit('g')));
        assert_eq!(parse("\\x0 1"), Err(InvalidBytea::HexDigit(' ')));
        for bad in ["a\\", "a\\9", "a\\400", "a\\12"] {
            assert_eq!(parse(bad), Err(InvalidBytea::Syntax), "{bad}");
        }
    }
}
