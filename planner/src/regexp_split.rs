//! `regexp_split_to_array(text, pattern [, flags])`; `regexp_split_to_table` is `unnest` of it
//! (see the SQL crate's compat rewrites). pgcli's name-casing query splits function sources
//! with it. Split as PostgreSQL splits: an empty match at the start or end of the text, or
//! right after the previous match, does not split. Patterns are Rust regular expressions, which
//! agree with PostgreSQL's for the common forms (classes, `\s`, `\W`, repetition); flags `i`
//! (case-insensitive), `c` (case-sensitive), `x` (expanded), `n` (newline-sensitive), `s` (not).

use std::sync::Arc;

use arrow::array::{Array, AsArray, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};

use crate::Error;

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpSplit {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    let signature = Signature::one_of(vec![TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]), TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8, DataType::Utf8])], Volatility::Immutable);
    ScalarUDF::new_from_impl(RegexpSplit { signature })
}

fn regex(pattern: &str, flags: &str) -> Result<regex::Regex> {
    let mut builder = regex::RegexBuilder::new(pattern);
    // PostgreSQL's default: `.` matches a newline and `^`/`$` match only at the ends.
    builder.dot_matches_new_line(true);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'c' => builder.case_insensitive(false),
            'x' => builder.ignore_whitespace(true),
            // Newline-sensitive matching.
            'n' => builder.dot_matches_new_line(false).multi_line(true),
            's' => builder.dot_matches_new_line(true).multi_line(false),
            'g' => return Err(Error::InvalidParameter("regexp_split_to_array() does not support the \"global\" option".into()).into()),
            other => return Err(Error::InvalidParameter(format!("invalid regular expression option: \"{other}\"")).into()),
        };
    }
    builder.build().map_err(|e| Error::InvalidRegularExpression(e.to_string()).into())
}

/// `text` split at the matches of `re`.
fn split<'a>(re: &regex::Regex, text: &'a str) -> Vec<&'a str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut matched = false;
    for m in re.find_iter(text) {
        if m.is_empty() && (m.start() == 0 || m.start() == text.len() || (matched && m.start() == start)) {
            continue;
        }
        pieces.push(&text[start..m.start()]);
        start = m.end();
        matched = true;
    }
    pieces.push(&text[start..]);
    pieces
}

impl ScalarUDFImpl for RegexpSplit {
    fn name(&self) -> &str {
        "regexp_split_to_array"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (arrays, scalar) = crate::functions::inputs(&args)?;
        let rows = arrays[0].len();
        let (texts, patterns) = (arrays[0].as_string::<i32>(), arrays[1].as_string::<i32>());
        let flags = arrays.get(2).map(|a| a.as_string::<i32>());
        let mut compiled: Option<(String, String, regex::Regex)> = None;
        let mut out = ListBuilder::new(StringBuilder::new());
        for row in 0..rows {
            let flag = flags.map_or(Some(""), |f| f.is_valid(row).then(|| f.value(row)));
            let (Some(flag), true, true) = (flag, texts.is_valid(row), patterns.is_valid(row)) else {
                out.append_null();
                continue;
            };
            let pattern = patterns.value(row);
            if !matches!(&compiled, Some((p, f, _)) if p == pattern && f == flag) {
                compiled = Some((pattern.to_string(), flag.to_string(), regex(pattern, flag)?));
            }
            let re = &compiled.as_ref().expect("compiled").2;
            out.append_value(split(re, texts.value(row)).into_iter().map(Some));
        }
        crate::functions::output(Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::{regex, split};

    #[test]
    fn splits_as_postgresql_does() {
        // Each expected split is PostgreSQL 15's.
        let cases = [
            ("hello world  foo", r"\s+", "", vec!["hello", "world", "foo"]),
            ("abc", "", "", vec!["a", "b", "c"]),
            (",a,,b,", ",", "", vec!["", "a", "", "b", ""]),
            ("aXbxc", "x", "i", vec!["a", "b", "c"]),
            ("foo", "o*", "", vec!["f", ""]),
            ("", ",", "", vec![""]),
            ("a\nb", "a.b", "", vec!["", ""]),
            ("a\nb", "a.b", "n", vec!["a\nb"]),
        ];
        for (text, pattern, flags, expected) in cases {
            assert_eq!(split(&regex(pattern, flags).unwrap(), text), expected, "{text:?} split by {pattern:?}");
        }
        assert!(regex("(", "").is_err());
        assert!(regex("a", "q").is_err());
    }
}
