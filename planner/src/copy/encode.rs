//! COPY TO: one row's text values as a line of COPY's text or CSV format.
//!
//! The values come in PostgreSQL's text output form (the same bytes a query sends in text
//! format, so every type prints as it does in a SELECT); this module only frames them: text
//! format escapes backslash, the delimiter and control characters and writes NULL as `\N` (or
//! the NULL option), CSV quotes what needs quoting (and what FORCE_QUOTE names).

use super::{Format, Options};

/// Appends one row (and its newline) to `out`. `force_quote[i]` quotes a non-NULL value of
/// column `i` in CSV format whatever it holds.
pub fn line(values: &[Option<&[u8]>], options: &Options, force_quote: &[bool], out: &mut Vec<u8>) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(options.delimiter);
        }
        match (value, options.format) {
            (None, _) => out.extend_from_slice(options.null.as_bytes()),
            // Binary rows are framed by the wire layer and never come here.
            (Some(v), Format::Text | Format::Binary) => text_value(v, options.delimiter, out),
            (Some(v), Format::Csv) => csv_value(v, options, force_quote.get(i).copied().unwrap_or(false), out),
        }
    }
    out.push(b'\n');
}

/// The header line: the column names, framed like values.
pub fn header(names: &[String], options: &Options, out: &mut Vec<u8>) {
    let values: Vec<Option<&[u8]>> = names.iter().map(|n| Some(n.as_bytes())).collect();
    line(&values, options, &[], out);
}

fn text_value(v: &[u8], delimiter: u8, out: &mut Vec<u8>) {
    for &b in v {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0b => out.extend_from_slice(b"\\v"),
            b if b == delimiter => {
                out.push(b'\\');
                out.push(b);
            }
            b => out.push(b),
        }
    }
}

fn csv_value(v: &[u8], options: &Options, force: bool, out: &mut Vec<u8>) {
    let (quote, escape) = (options.quote, options.escape);
    // PostgreSQL quotes a value that could be misread: one holding the delimiter, the quote,
    // a newline, or equal to the NULL string (so an empty string is "" when NULL is empty), and
    // the end-of-data marker `\.` alone.
    let needs = force
        || v.is_empty() && options.null.is_empty()
        || v == options.null.as_bytes()
        || v == b"\\."
        || v.iter().any(|&b| b == options.delimiter || b == quote || b == b'\n' || b == b'\r');
    if !needs {
        out.extend_from_slice(v);
        return;
    }
    out.push(quote);
    for &b in v {
        if b == quote || b == escape {
            out.push(escape);
        }
        out.push(b);
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(values: &[Option<&str>], options: &Options, force: &[bool]) -> String {
        let values: Vec<Option<&[u8]>> = values.iter().map(|v| v.map(str::as_bytes)).collect();
        let mut out = Vec::new();
        line(&values, options, force, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_format_escapes_as_postgresql_does() {
        // Each line as PostgreSQL 15's COPY … TO STDOUT printed the same values.
        let text = Options::text();
        assert_eq!(render(&[Some("a\tb"), None, Some("back\\slash\nnew")], &text, &[]), "a\\tb\t\\N\tback\\\\slash\\nnew\n");
        let pipes = Options { delimiter: b'|', null: String::new(), ..Options::text() };
        assert_eq!(render(&[Some("x|y"), None, Some("t\tab")], &pipes, &[]), "x\\|y||t\\tab\n");
    }

    #[test]
    fn csv_quotes_what_could_be_misread() {
        let csv = Options::csv();
        assert_eq!(render(&[Some("plain"), Some("a,b"), Some("say \"hi\""), Some(""), None, Some("l1\nl2")], &csv, &[]), "plain,\"a,b\",\"say \"\"hi\"\"\",\"\",,\"l1\nl2\"\n");
        assert_eq!(render(&[Some("1"), Some("x")], &csv, &[true, false]), "\"1\",x\n");
        let escaped = Options { escape: b'\\', ..Options::csv() };
        assert_eq!(render(&[Some("a\"b\\c")], &escaped, &[]), "\"a\\\"b\\\\c\"\n");
        let null_word = Options { null: "NULL".into(), ..Options::csv() };
        assert_eq!(render(&[Some("NULL"), None, Some("")], &null_word, &[]), "\"NULL\",NULL,\n");
    }
}
