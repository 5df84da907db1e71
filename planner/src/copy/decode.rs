//! Splitting COPY data into fields: PostgreSQL's text format (tab-separated, `\N` for NULL,
//! backslash escapes, `\.` ends the data) and CSV (quotes, doubled quotes or an escape
//! character, quoted newlines, an unquoted empty field is NULL, optional header line).
//!
//! Data arrives in arbitrary chunks; complete lines are decoded as they come and only a
//! partial last line is kept, so the raw text is never held whole. The decoded rows are taken
//! a [`Batch`] at a time ([`Decoder::take`]) once [`Decoder::buffered_bytes`] says enough.

use arrow::array::{ArrayRef, StringBuilder};
use std::sync::Arc;

use super::{Batch, CopyError, Format, Options};

/// Fields decoded since the last batch was taken, one text column per target column.
pub struct Decoder {
    options: Options,
    /// The target columns' names, for messages.
    names: Vec<String>,
    columns: Vec<StringBuilder>,
    /// Bytes of a line (or, for CSV, a record) not complete yet.
    pending: Vec<u8>,
    /// Lines consumed (for error messages, counted from 1 like PostgreSQL).
    line: usize,
    rows: usize,
    /// The line of the first row not yet taken.
    batch_line: usize,
    header_skipped: bool,
    ended: bool,
    /// Per column, CSV only: FORCE_NOT_NULL (the NULL string is a value) and FORCE_NULL (a
    /// quoted NULL string is NULL too).
    force_not_null: Vec<bool>,
    force_null: Vec<bool>,
}

impl Decoder {
    pub fn new(options: Options, names: Vec<String>) -> Self {
        let columns = names.len();
        Self {
            options,
            names,
            columns: (0..columns).map(|_| StringBuilder::new()).collect(),
            pending: Vec::new(),
            line: 0,
            rows: 0,
            batch_line: 1,
            header_skipped: false,
            ended: false,
            force_not_null: vec![false; columns],
            force_null: vec![false; columns],
        }
    }

    pub fn with_forced(mut self, force_not_null: Vec<bool>, force_null: Vec<bool>) -> Self {
        self.force_not_null = force_not_null;
        self.force_null = force_null;
        self
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Memory held by the rows not yet taken: their text and offsets.
    pub fn buffered_bytes(&self) -> usize {
        self.columns.iter().map(|b| b.values_slice().len() + b.offsets_slice().len() * 4).sum()
    }

    /// The rows decoded since the last batch; the decoder goes on with the next line.
    pub fn take(&mut self) -> Batch {
        let columns = self.columns.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let first_line = self.batch_line;
        self.batch_line = self.line + 1;
        Batch { columns, first_line }
    }

    /// Decodes the complete lines in `data` (and before it).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), CopyError> {
        self.pending.extend_from_slice(data);
        // Moved out while its records are decoded, so they need not be copied.
        let pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        let mut result = Ok(());
        while let Some(end) = self.record_end(&pending[start..]).map(|e| start + e) {
            result = self.record(&pending[start..end]);
            start = end + 1;
            if result.is_err() {
                break;
            }
        }
        self.pending = pending;
        self.pending.drain(..start);
        result
    }

    /// The last batch; a last line without a newline counts too.
    pub fn finish(mut self) -> Result<Batch, CopyError> {
        if !self.pending.is_empty() {
            let record = std::mem::take(&mut self.pending);
            if self.options.format == Format::Csv && csv_record_end(&record, self.options.quote, self.options.escape) == Err(true) {
                return Err(CopyError::Syntax { line: self.line + 1, message: "unterminated CSV quoted field".into(), text: shown(&record) });
            }
            self.record(&record)?;
        }
        Ok(self.take())
    }

    /// Where the first record of `bytes` ends (its newline), if it is complete.
    fn record_end(&self, bytes: &[u8]) -> Option<usize> {
        match self.options.format {
            Format::Text | Format::Binary => bytes.iter().position(|b| *b == b'\n'),
            Format::Csv => csv_record_end(bytes, self.options.quote, self.options.escape).ok(),
        }
    }

    fn record(&mut self, record: &[u8]) -> Result<(), CopyError> {
        self.line += 1;
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        if self.ended {
            return Ok(());
        }
        if self.options.header && !self.header_skipped {
            self.header_skipped = true;
            self.batch_line = self.line + 1;
            return Ok(());
        }
        if record == b"\\." {
            self.ended = true;
            return Ok(());
        }
        let line = self.line;
        let fields = match self.options.format {
            Format::Text | Format::Binary => text_fields(record, self.options.delimiter, &self.options.null).map_err(|message| CopyError::Syntax { line, message, text: shown(record) })?,
            Format::Csv => csv_fields(record, &self.options, &self.force_not_null, &self.force_null),
        };
        if fields.len() != self.columns.len() {
            let message = match self.names.get(fields.len()) {
                Some(name) if fields.len() < self.columns.len() => format!("missing data for column \"{name}\""),
                _ => "extra data after last expected column".to_string(),
            };
            return Err(CopyError::Syntax { line, message, text: shown(record) });
        }
        for (builder, field) in self.columns.iter_mut().zip(fields) {
            builder.append_option(field);
        }
        self.rows += 1;
        Ok(())
    }
}

/// A line as an error's context shows it: at most 100 characters, as PostgreSQL shows it.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.into_owned(),
    }
}

/// The newline ending the first CSV record of `bytes` (newlines inside quotes belong to the
/// record); `Err(true)` when the bytes end inside quotes, `Err(false)` when outside.
fn csv_record_end(bytes: &[u8], quote: u8, escape: u8) -> Result<usize, bool> {
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if quoted && b == escape && escape != quote && bytes.get(i + 1).is_some_and(|n| *n == quote || *n == escape) {
            i += 2;
            continue;
        }
        if b == quote {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            return Ok(i);
        }
        i += 1;
    }
    Err(quoted)
}

/// One line of the text format: fields split at the delimiter, escapes resolved, the NULL
/// string (compared before unescaping, as PostgreSQL does) as `None`.
fn text_fields(line: &[u8], delimiter: u8, null: &str) -> Result<Vec<Option<String>>, String> {
    let mut fields = Vec::new();
    for raw in line.split(|b| *b == delimiter) {
        if raw == null.as_bytes() {
            fields.push(None);
            continue;
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] != b'\\' || i + 1 == raw.len() {
                out.push(raw[i]);
                i += 1;
                continue;
            }
            let c = raw[i + 1];
            i += 2;
            match c {
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(11),
                b'0'..=b'7' => {
                    let mut v = (c - b'0') as u32;
                    for _ in 0..2 {
                        match raw.get(i) {
                            Some(d @ b'0'..=b'7') => {
                                v = v * 8 + (d - b'0') as u32;
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(v as u8);
                }
                b'x' if raw.get(i).is_some_and(|d| d.is_ascii_hexdigit()) => {
                    let mut v = 0u32;
                    for _ in 0..2 {
                        match raw.get(i) {
                            Some(d) if d.is_ascii_hexdigit() => {
                                v = v * 16 + (*d as char).to_digit(16).expect("hex digit");
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(v as u8);
                }
                other => out.push(other),
            }
        }
        fields.push(Some(String::from_utf8(out).map_err(|_| "invalid byte sequence for encoding \"UTF8\"".to_string())?));
    }
    Ok(fields)
}

/// One CSV record: quoted parts keep delimiters, newlines and (escaped) quotes; an unquoted
/// field equal to the NULL string is `None` (unless its column is FORCE_NOT_NULL), a quoted
/// one only when its column is FORCE_NULL.
fn csv_fields(record: &[u8], options: &Options, force_not_null: &[bool], force_null: &[bool]) -> Vec<Option<String>> {
    let (delimiter, quote, escape) = (options.delimiter, options.quote, options.escape);
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut was_quoted = false;
    let mut quoted = false;
    let mut i = 0;
    let mut push = |field: &mut Vec<u8>, was_quoted: bool| {
        let text = String::from_utf8_lossy(field).into_owned();
        let column = fields.len();
        let forced = |flags: &[bool]| flags.get(column).copied().unwrap_or(false);
        let null = text == options.null && if was_quoted { forced(force_null) } else { !forced(force_not_null) };
        fields.push(if null { None } else { Some(text) });
        field.clear();
    };
    while i < record.len() {
        let b = record[i];
        if quoted {
            if b == escape && record.get(i + 1).is_some_and(|n| *n == quote || (*n == escape && escape != quote)) {
                field.push(record[i + 1]);
                i += 2;
                continue;
            }
            if b == quote {
                quoted = false;
            } else {
                field.push(b);
            }
        } else if b == quote {
            quoted = true;
            was_quoted = true;
        } else if b == delimiter {
            push(&mut field, was_quoted);
            was_quoted = false;
        } else {
            field.push(b);
        }
        i += 1;
    }
    push(&mut field, was_quoted);
    fields
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};

    use super::*;

    fn names(columns: usize) -> Vec<String> {
        (b'a'..).take(columns).map(|c| (c as char).to_string()).collect()
    }

    fn decode(options: Options, columns: usize, chunks: &[&[u8]]) -> Result<Vec<Vec<Option<String>>>, CopyError> {
        let mut d = Decoder::new(options, names(columns));
        for c in chunks {
            d.feed(c)?;
        }
        let cols = d.finish()?.columns;
        let rows = cols[0].len();
        Ok((0..rows).map(|r| cols.iter().map(|c| { let s = c.as_string::<i32>(); (!s.is_null(r)).then(|| s.value(r).to_string()) }).collect()).collect())
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn text_format_as_postgresql_writes_it() {
        let rows = decode(Options::text(), 3, &[b"1\ta\\tb\t\\N\n2\t", b"line\\nbreak\t\\\\\n\\.\nignored\n"]).unwrap();
        assert_eq!(rows, vec![vec![s("1"), s("a\tb"), None], vec![s("2"), s("line\nbreak"), s("\\")]]);
        let rows = decode(Options::text(), 1, &[b"\\101\\x42\r\nlast"]).unwrap();
        assert_eq!(rows, vec![vec![s("AB")], vec![s("last")]]);
    }

    #[test]
    fn csv_with_quotes_header_and_nulls() {
        let options = Options { header: true, ..Options::csv() };
        let rows = decode(options, 3, &[b"id,name,note\n1,\"a, \"\"quoted\"\"\n", b"name\",\n2,,\"\"\n"]).unwrap();
        assert_eq!(rows, vec![vec![s("1"), s("a, \"quoted\"\nname"), None], vec![s("2"), None, s("")]]);
    }

    #[test]
    fn force_not_null_and_force_null_as_postgresql_reads_them() {
        // PostgreSQL 15, `COPY t FROM STDIN (FORMAT csv, FORCE_NOT_NULL (a, c), FORCE_NULL (b, c))`
        // of `,"",""`: a is '', b NULL, c NULL (quoted NULL string), and of `,,` a '', b NULL, c ''.
        let mut d = Decoder::new(Options::csv(), names(3)).with_forced(vec![true, false, true], vec![false, true, true]);
        d.feed(b",\"\",\"\"\n,,\n").unwrap();
        let cols = d.finish().unwrap().columns;
        let value = |c: usize, r: usize| { let s = cols[c].as_string::<i32>(); (!s.is_null(r)).then(|| s.value(r).to_string()) };
        assert_eq!([value(0, 0), value(1, 0), value(2, 0)], [s(""), None, None]);
        assert_eq!([value(0, 1), value(1, 1), value(2, 1)], [s(""), None, s("")]);
    }

    #[test]
    fn wrong_field_counts_name_the_line() {
        let err = decode(Options::text(), 2, &[b"1\t2\n3\n"]).unwrap_err();
        assert_eq!(err, CopyError::Syntax { line: 2, message: "missing data for column \"b\"".into(), text: "3".into() });
        let err = decode(Options::csv(), 1, &[b"1\n2,3\n"]).unwrap_err();
        assert_eq!(err, CopyError::Syntax { line: 2, message: "extra data after last expected column".into(), text: "2,3".into() });
        assert!(matches!(decode(Options::csv(), 1, &[b"\"open"]), Err(CopyError::Syntax { line: 1, .. })));
        assert_eq!(shown("é".repeat(120).as_bytes()), format!("{}...", "é".repeat(100)));
    }

    #[test]
    fn batches_are_taken_as_they_fill_and_know_their_first_line() {
        let mut d = Decoder::new(Options { header: true, ..Options::csv() }, names(2));
        d.feed(b"a,b\n1,x\n2,y\n").unwrap();
        assert!(d.buffered_bytes() >= 4);
        let first = d.take();
        assert_eq!((first.first_line, first.columns[0].len()), (2, 2));
        assert_eq!(d.buffered_bytes(), 8, "one offset per column left");
        d.feed(b"3,\"multi\nline\"\n4,w").unwrap();
        let second = d.take();
        assert_eq!((second.first_line, second.columns[1].as_string::<i32>().value(0)), (4, "multi\nline"));
        let last = d.finish().unwrap();
        assert_eq!((last.first_line, last.columns[0].as_string::<i32>().value(0)), (5, "4"));
    }
}
