//! `format(formatstr, args...)`: PostgreSQL's sprintf-like string builder, which catalog
//! queries use to build qualified names (`format('%I.%I', schema, table)::regclass` in
//! Metabase's field sync). Conversions `%s` (text; NULL is empty), `%I` (an identifier, quoted
//! as `quote_ident` does; NULL is an error), `%L` (a literal, quoted as `quote_literal` does;
//! NULL is `NULL`) and `%%`, with PostgreSQL's `n$` positions, `-` flag and widths (`*` too).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};

use crate::error::Error;

#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Format { signature: Signature::one_of(vec![TypeSignature::VariadicAny], Volatility::Stable) })
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (arrays, scalar) = crate::functions::inputs(&args)?;
        let rows = arrays.first().map_or(1, |a| a.len());
        let texts: Vec<Vec<Option<String>>> = arrays.iter().map(|a| texts(a)).collect::<Result<_>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 32);
        for row in 0..rows {
            let Some(pattern) = &texts[0][row] else {
                out.append_null();
                continue;
            };
            let values: Vec<Option<&str>> = texts[1..].iter().map(|t| t[row].as_deref()).collect();
            out.append_value(format(pattern, &values)?);
        }
        crate::functions::output(Arc::new(out.finish()), scalar)
    }
}

/// Each value of `array` as PostgreSQL's text output would print it (booleans `t`/`f`, floats
/// as PostgreSQL prints them); NULL stays `None`.
fn texts(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    Ok(match array.data_type() {
        DataType::Boolean => array.as_boolean().iter().map(|b| b.map(|b| if b { "t" } else { "f" }.to_string())).collect(),
        DataType::Float64 => array.as_primitive::<arrow::datatypes::Float64Type>().iter().map(|v| v.map(crate::float_text::pg_float8)).collect(),
        DataType::Float32 => array.as_primitive::<arrow::datatypes::Float32Type>().iter().map(|v| v.map(crate::float_text::pg_float4)).collect(),
        t if crate::numeric_text::is_unconstrained(t) => {
            let scale = crate::types::DEFAULT_NUMERIC.1 as u32;
            array.as_primitive::<arrow::datatypes::Decimal128Type>().iter().map(|v| v.map(|v| crate::numeric_text::trimmed_decimal(v, scale))).collect()
        }
        _ => {
            let strings = arrow::compute::cast(array, &DataType::Utf8)?;
            strings.as_string::<i32>().iter().map(|s| s.map(str::to_string)).collect()
        }
    })
}

/// The longest text PostgreSQL holds in one value.
const MAX_LENGTH: usize = (1 << 30) - 1;

fn invalid(message: &str) -> datafusion::error::DataFusionError {
    Error::InvalidParameter(message.to_string()).into()
}

/// `pattern` with its conversions filled from `values`.
fn format(pattern: &str, values: &[Option<&str>]) -> Result<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut next = 0usize;
    let mut i = 0;
    let take = |at: usize| -> Result<Option<&str>> { values.get(at).copied().ok_or_else(|| invalid("too few arguments for format()")) };
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return Err(invalid("unterminated format() type specifier"));
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        // `n$`: the argument's position (1-based); then flags and width.
        let number = |i: &mut usize| -> Option<usize> {
            let start = *i;
            while *i < chars.len() && chars[*i].is_ascii_digit() {
                *i += 1;
            }
            (start < *i).then(|| chars[start..*i].iter().collect::<String>().parse::<i32>().map_or(usize::MAX, |n| n as usize))
        };
        let out_of_range = || Error::OutOfRange("number is out of range".into());
        let start = i;
        if let Some(n) = number(&mut i) {
            if chars.get(i) == Some(&'$') {
                if n == usize::MAX {
                    return Err(out_of_range().into());
                }
                if n == 0 {
                    return Err(invalid("format specifies argument 0, but arguments are numbered from 1"));
                }
                next = n - 1;
                i += 1;
            } else {
                i = start;
            }
        }
        let mut left = false;
        while chars.get(i) == Some(&'-') {
            left = true;
            i += 1;
        }
        let mut width = None;
        if chars.get(i) == Some(&'*') {
            i += 1;
            let at = match number(&mut i) {
                Some(n) if chars.get(i) == Some(&'$') => {
                    i += 1;
                    n.checked_sub(1).ok_or_else(|| invalid("format specifies argument 0, but arguments are numbered from 1"))?
                }
                _ => {
                    next += 1;
                    next - 1
                }
            };
            let w: i32 = match take(at)? {
                Some(w) => w.trim().parse().map_err(|_| out_of_range())?,
                None => 0,
            };
            if w < 0 {
                left = true;
            }
            width = Some(w.unsigned_abs() as usize);
        } else if let Some(w) = number(&mut i) {
            if w == usize::MAX {
                return Err(out_of_range().into());
            }
            width = Some(w);
        }
        let Some(&conversion) = chars.get(i) else { return Err(invalid("unterminated format() type specifier")) };
        i += 1;
        let value = take(next)?;
        next += 1;
        let text = match conversion {
            's' => value.unwrap_or("").to_string(),
            'I' => match value {
                Some(v) => crate::names::quote_ident(v),
                None => return Err(Error::NullValueNotAllowed("null values cannot be formatted as an SQL identifier".into()).into()),
            },
            'L' => match value {
                Some(v) if v.contains('\\') => format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''")),
                Some(v) => format!("'{}'", v.replace('\'', "''")),
                None => "NULL".to_string(),
            },
            other => return Err(invalid(&format!("unrecognized format() type specifier \"{other}\""))),
        };
        let pad = width.unwrap_or(0).saturating_sub(text.chars().count());
        // PostgreSQL's limit on a value (1 GB), so a width cannot ask for more memory.
        if out.len() + text.len() + pad > MAX_LENGTH {
            return Err(Error::ProgramLimit("the result of format() is too long".into()).into());
        }
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn formats_as_postgresql_does() {
        // Each expected output is PostgreSQL 15's.
        let values = [Some("a b"), Some("A"), Some("it's"), None, Some("x"), Some("y")];
        assert_eq!(format("%s|%I|%L|%L|%%|%2$s|%-5s|%5s|", &values).unwrap(), "a b|\"A\"|'it''s'|NULL|%|A|it's |     |");
        assert_eq!(format("%I.%I", &[Some("tools"), Some("time")]).unwrap(), "tools.\"time\"");
        assert_eq!(format("%1$s %s", &[Some("a"), Some("b")]).unwrap(), "a b");
        assert_eq!(format("[%*s]", &[Some("4"), Some("ab")]).unwrap(), "[  ab]");
        assert!(format("%s %s", &[Some("1")]).is_err());
        assert!(format("%x", &[Some("1")]).is_err());
        assert!(format("%I", &[None]).is_err());
        assert!(format("%99999999999999999999s", &[Some("x")]).is_err());
        assert!(format("%*s", &[Some("4000000000"), Some("x")]).is_err());
        assert!(format("%*s", &[Some("2000000000"), Some("x")]).is_err(), "over the 1 GB limit");
        assert_eq!(format("%*s|", &[Some("-3"), Some("x")]).unwrap(), "x  |", "a negative width pads on the right");
    }
}
