//! `json_build_object(k, v, …)` and `json_build_array(v, …)`: JSON text built from SQL values,
//! spaced as PostgreSQL prints it (`{"a" : 1, "b" : true}`, `[1, true]`), typed `json` so
//! drivers decode it (SQLAlchemy's column reflection reads identity options this way).

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};

use crate::error::Error;
use crate::types::{PG_TYPE_METADATA, field_metadata};

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuild {
    object: bool,
    signature: Signature,
}

pub fn udfs() -> Vec<ScalarUDF> {
    [true, false].into_iter().map(|object| ScalarUDF::new_from_impl(JsonBuild { object, signature: Signature::one_of(vec![TypeSignature::VariadicAny, TypeSignature::Nullary], Volatility::Stable) })).collect()
}

impl ScalarUDFImpl for JsonBuild {
    fn name(&self) -> &str {
        if self.object { "json_build_object" } else { "json_build_array" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, false).with_metadata(field_metadata("json"))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.object && args.args.len() % 2 == 1 {
            return Err(Error::InvalidParameter("argument list must have even number of elements".into()).into());
        }
        let n = args.number_rows;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        // Arguments already JSON (a nested json_build_object) go in as they are.
        let raw: Vec<bool> = args.arg_fields.iter().map(|f| f.metadata().get(PG_TYPE_METADATA).is_some_and(|t| t == "json" || t == "jsonb")).collect();
        // (A cast to text keeps the marker in DataFusion; such text is then embedded too, where
        // PostgreSQL would quote it. Rare in catalog queries; noted in docs/compatibility.md.)
        let rows = if scalar { 1 } else { n };
        let mut out = StringBuilder::with_capacity(rows, rows * 32);
        let mut text = String::new();
        for row in 0..rows {
            text.clear();
            text.push(if self.object { '{' } else { '[' });
            for (i, array) in arrays.iter().enumerate() {
                let value = ScalarValue::try_from_array(array, row)?;
                if i > 0 {
                    text.push_str(if self.object && i % 2 == 1 { " : " } else { ", " });
                }
                if self.object && i % 2 == 0 {
                    if value.is_null() {
                        return Err(Error::NullValueNotAllowed(format!("argument {}: key must not be null", i + 1)).into());
                    }
                    quote(&mut text, &plain_text(&value));
                } else if raw[i] && !value.is_null() {
                    text.push_str(&plain_text(&value));
                } else {
                    write_value(&mut text, &value);
                }
            }
            text.push(if self.object { '}' } else { ']' });
            out.append_value(&text);
        }
        let array: ArrayRef = Arc::new(out.finish());
        crate::functions::output(array, scalar)
    }
}

/// A value as text (a key, or JSON embedded as is).
fn plain_text(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => s.clone(),
        other => other.to_string(),
    }
}

/// A SQL value as JSON: numbers and booleans as themselves (non-finite floats as strings, as
/// PostgreSQL writes them), arrays as arrays, everything else as a string of its text.
fn write_value(out: &mut String, v: &ScalarValue) {
    use ScalarValue::*;
    if v.is_null() {
        out.push_str("null");
        return;
    }
    match v {
        Boolean(Some(b)) => out.push_str(if *b { "true" } else { "false" }),
        // `oid` (UInt32) is not a number type in PostgreSQL: it is quoted below.
        Int8(_) | Int16(_) | Int32(_) | Int64(_) | UInt8(_) | UInt16(_) | UInt64(_) => {
            let _ = write!(out, "{v}");
        }
        Decimal128(..) | Decimal256(..) => match v.to_array().and_then(|a| Ok(arrow::util::display::array_value_to_string(&a, 0)?)) {
            Ok(text) => out.push_str(&text),
            Err(_) => out.push_str("null"),
        },
        Float32(Some(f)) if f.is_finite() => out.push_str(&crate::float_text::pg_float4(*f)),
        Float64(Some(f)) if f.is_finite() => out.push_str(&crate::float_text::pg_float8(*f)),
        List(list) => {
            out.push('[');
            let values = list.value(0);
            for i in 0..values.len() {
                if i > 0 {
                    out.push_str(", ");
                }
                match ScalarValue::try_from_array(&values, i) {
                    Ok(e) => write_value(out, &e),
                    Err(_) => out.push_str("null"),
                }
            }
            out.push(']');
        }
        Float32(Some(f)) => quote(out, &float_name(*f as f64)),
        Float64(Some(f)) => quote(out, &float_name(*f)),
        other => quote(out, &plain_text(other)),
    }
}

fn float_name(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f > 0.0 {
        "Infinity".into()
    } else {
        "-Infinity".into()
    }
}

/// A JSON string literal.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_postgres_writes_them() {
        let mut s = String::new();
        for v in [ScalarValue::Int64(Some(-3)), ScalarValue::Boolean(Some(true)), ScalarValue::Utf8(Some("a\"b\n".into())), ScalarValue::Float64(Some(f64::NAN)), ScalarValue::Int32(None)] {
            write_value(&mut s, &v);
            s.push(' ');
        }
        assert_eq!(s, "-3 true \"a\\\"b\\n\" \"NaN\" null ");
        s.clear();
        write_value(&mut s, &ScalarValue::Decimal128(Some(-15), 5, 1));
        assert_eq!(s, "-1.5");
        s.clear();
        for v in [ScalarValue::UInt32(Some(16384)), ScalarValue::Float64(Some(1e20)), ScalarValue::Float64(Some(1e-5))] {
            write_value(&mut s, &v);
            s.push(' ');
        }
        assert_eq!(s, "\"16384\" 1e+20 1e-05 ");
    }
}
