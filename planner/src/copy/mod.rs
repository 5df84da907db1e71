//! `COPY t [(columns)] FROM STDIN` and `COPY t [(columns)] | (query) TO STDOUT`, `[WITH (FORMAT
//! text | csv | binary, DELIMITER, NULL, HEADER, QUOTE, ESCAPE, FORCE_QUOTE, FORCE_NOT_NULL,
//! FORCE_NULL)]`, as psql's `\copy` and drivers' bulk loads and exports send them.
//!
//! COPY TO runs the query like a SELECT; the wire layer prints each row as it would in text
//! format and frames the values with [`encode`], so every type reads back through COPY FROM.
//!
//! [`start`] checks the statement and says what the client is to send; the wire layer feeds
//! the data to a [`Decoder`] and hands each [`Batch`] of text columns to a [`Load`], which
//! inserts it with `INSERT … SELECT CAST(field AS column type) …` in the COPY's transaction:
//! the same casts, defaults and constraints as any INSERT, memory bounded by the batch size,
//! and one commit at the end, so a bad value fails the whole COPY and the table is unchanged,
//! as in PostgreSQL.
//!
//! The binary format is framed and read by the wire layer, which knows PostgreSQL's binary
//! forms; its batches hold typed columns instead of text ones. Files and programs
//! (`COPY … FROM 'file'`) are refused: SQL cannot reach the server's files.

pub mod decode;
pub mod encode;
mod load;

use arrow::array::ArrayRef;
use datafusion::sql::sqlparser::ast::{CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Statement};
use quartzdb_storage::QualifiedName;

pub use decode::Decoder;
pub use load::Load;

use crate::error::{Error, Result};
use crate::names;
use crate::output::Output;
use crate::session::Session;

/// A malformed line of COPY data (22P04, PostgreSQL's bad_copy_file_format); the line and its
/// text go to the error's CONTEXT ([`Load::syntax_error`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CopyError {
    #[error("{message}")]
    Syntax { line: usize, message: String, text: String },
}

/// Rows decoded from COPY data, one array per target column (text, or for the binary format
/// already typed), inserted together.
pub struct Batch {
    pub columns: Vec<ArrayRef>,
    /// The line (row, in the binary format) the first of them came from, counted from 1.
    pub first_line: usize,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.len())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Binary,
}

/// How the data is written; the defaults are PostgreSQL's for each format.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub format: Format,
    pub delimiter: u8,
    pub null: String,
    pub header: bool,
    pub quote: u8,
    pub escape: u8,
    /// FORCE_QUOTE's columns (COPY TO in CSV format).
    pub force_quote: Vec<String>,
    /// FORCE_NOT_NULL's and FORCE_NULL's columns (COPY FROM in CSV format): never NULL, or NULL
    /// also when the NULL string is quoted.
    pub force_not_null: Vec<String>,
    pub force_null: Vec<String>,
}

impl Options {
    pub fn text() -> Self {
        Self { format: Format::Text, delimiter: b'\t', null: "\\N".into(), header: false, quote: b'"', escape: b'"', force_quote: vec![], force_not_null: vec![], force_null: vec![] }
    }

    pub fn csv() -> Self {
        Self { format: Format::Csv, delimiter: b',', null: String::new(), ..Self::text() }
    }

    pub fn binary() -> Self {
        Self { format: Format::Binary, ..Self::text() }
    }
}

/// A COPY FROM STDIN the client is about to send data for.
#[derive(Debug, Clone)]
pub struct CopyIn {
    table: QualifiedName,
    /// The target columns, in the order the data has them.
    columns: Vec<String>,
    types: Vec<String>,
    pub options: Options,
    /// Decoded bytes to gather before inserting them (`quartz.copy_batch_size`).
    batch_bytes: usize,
}

impl CopyIn {
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// The decoder of text and CSV data (binary data is the wire layer's to read).
    pub fn decoder(&self) -> Decoder {
        let flags = |names: &[String]| self.columns.iter().map(|c| names.contains(c)).collect();
        Decoder::new(self.options.clone(), self.columns.clone()).with_forced(flags(&self.options.force_not_null), flags(&self.options.force_null))
    }

    /// A malformed line's error, with the line shown in its context as PostgreSQL shows it.
    pub fn syntax_error(&self, error: CopyError) -> Error {
        let CopyError::Syntax { line, text, .. } = &error;
        let context = format!("COPY {}, line {line}: \"{text}\"", self.table.name);
        Error::InCopy { context, source: Box::new(Error::Copy(error)) }
    }

    /// How much decoded data to gather before inserting it: this bounds a COPY's memory.
    pub fn batch_bytes(&self) -> usize {
        self.batch_bytes
    }

    /// The PostgreSQL type OID of each target column, which binary data is read by.
    pub fn type_oids(&self) -> Vec<u32> {
        let types = crate::pg_catalog::types::types();
        self.types.iter().map(|t| crate::pg_catalog::types::resolve(types, t).unwrap_or(0)).collect()
    }

    pub fn type_names(&self) -> &[String] {
        &self.types
    }
}

fn ascii_char(option: &str, c: char) -> Result<u8> {
    if c.is_ascii() {
        Ok(c as u8)
    } else {
        Err(Error::InvalidParameter(format!("COPY {option} must be a single one-byte character")))
    }
}

/// The options of a `COPY … WITH (…)` (or the pre-9.0 spelling psql still accepts).
fn options(with: &[CopyOption], legacy: &[CopyLegacyOption]) -> Result<Options> {
    let csv = with.iter().any(|o| matches!(o, CopyOption::Format(f) if f.value.eq_ignore_ascii_case("csv"))) || legacy.iter().any(|o| matches!(o, CopyLegacyOption::Csv(_)));
    let binary = with.iter().any(|o| matches!(o, CopyOption::Format(f) if f.value.eq_ignore_ascii_case("binary"))) || legacy.iter().any(|o| matches!(o, CopyLegacyOption::Binary));
    let mut out = if binary { Options::binary() } else if csv { Options::csv() } else { Options::text() };
    let mut escape = None;
    // PostgreSQL's errors for options that make no sense in binary: 42601 for these, 0A000 for HEADER.
    let not_in_binary = |option: &str| if binary { Err(Error::Syntax(format!("cannot specify {option} in BINARY mode"))) } else { Ok(()) };
    for o in with {
        match o {
            CopyOption::Format(f) if matches!(f.value.to_ascii_lowercase().as_str(), "csv" | "text" | "binary") => {}
            CopyOption::Format(f) => return Err(Error::InvalidParameter(format!("COPY format \"{}\" not recognized", f.value))),
            CopyOption::Delimiter(_) | CopyOption::Null(_) if binary => not_in_binary(if matches!(o, CopyOption::Null(_)) { "NULL" } else { "DELIMITER" })?,
            CopyOption::Header(true) if binary => return Err(Error::Unsupported("cannot specify HEADER in BINARY mode".into())),
            CopyOption::Delimiter(c) => out.delimiter = ascii_char("delimiter", *c)?,
            CopyOption::Null(s) => out.null = s.clone(),
            CopyOption::Header(h) => out.header = *h,
            CopyOption::Quote(c) => out.quote = ascii_char("quote", *c)?,
            CopyOption::Escape(c) => escape = Some(ascii_char("escape", *c)?),
            CopyOption::Encoding(e) if e.eq_ignore_ascii_case("utf8") || e.eq_ignore_ascii_case("utf-8") => {}
            CopyOption::Freeze(_) => {}
            CopyOption::ForceQuote(columns) => out.force_quote = columns.iter().map(names::ident).collect(),
            CopyOption::ForceNotNull(columns) => out.force_not_null = columns.iter().map(names::ident).collect(),
            CopyOption::ForceNull(columns) => out.force_null = columns.iter().map(names::ident).collect(),
            other => return Err(Error::Unsupported(format!("COPY option {other}"))),
        }
    }
    for o in legacy {
        match o {
            CopyLegacyOption::Csv(csv_options) => {
                for c in csv_options {
                    match c {
                        CopyLegacyCsvOption::Header => out.header = true,
                        CopyLegacyCsvOption::Quote(q) => out.quote = ascii_char("quote", *q)?,
                        CopyLegacyCsvOption::Escape(e) => escape = Some(ascii_char("escape", *e)?),
                        CopyLegacyCsvOption::ForceQuote(columns) => out.force_quote = columns.iter().map(names::ident).collect(),
                        CopyLegacyCsvOption::ForceNotNull(columns) => out.force_not_null = columns.iter().map(names::ident).collect(),
                    }
                }
            }
            CopyLegacyOption::Delimiter(c) => out.delimiter = ascii_char("delimiter", *c)?,
            CopyLegacyOption::Null(s) => out.null = s.clone(),
            CopyLegacyOption::Header => out.header = true,
            CopyLegacyOption::Binary => {}
            other => return Err(Error::Unsupported(format!("COPY option {other}"))),
        }
    }
    out.escape = escape.unwrap_or(out.quote);
    if matches!(out.delimiter, b'\n' | b'\r' | b'\\') || (out.format == Format::Csv && out.delimiter == out.quote) {
        return Err(Error::InvalidParameter("COPY delimiter cannot be newline, carriage return, backslash or the quote character".into()));
    }
    Ok(out)
}

/// Starts a COPY: for FROM STDIN, checks it and says what data to expect; for TO STDOUT, runs
/// its query.
pub async fn start(session: &mut Session, stmt: Statement) -> Result<Output> {
    let Statement::Copy { source, to, target, options: with, legacy_options, .. } = stmt else {
        return Err(Error::Internal("copy::start takes COPY".into()));
    };
    match (to, &target) {
        (false, CopyTarget::Stdin) | (true, CopyTarget::Stdout) => {}
        _ => return Err(Error::PermissionDenied("COPY to or from a file or program is not allowed: SQL cannot reach the server's files; use psql's \\copy".into())),
    }
    let options = options(&with, &legacy_options)?;
    let forced = [("force quote", &options.force_quote, true), ("force not null", &options.force_not_null, false), ("force null", &options.force_null, false)];
    for (what, columns, copy_to) in forced {
        if columns.is_empty() {
            continue;
        }
        if options.format != Format::Csv {
            return Err(Error::Unsupported(format!("COPY {what} available only in CSV mode")));
        }
        if to != copy_to {
            return Err(Error::Unsupported(format!("COPY {what} only available using COPY {}", if copy_to { "TO" } else { "FROM" })));
        }
    }
    if to {
        return copy_out(session, source, options).await;
    }
    let CopySource::Table { table_name, columns } = source else {
        return Err(Error::Syntax("COPY FROM takes a table, not a query".into()));
    };
    let table = session.qualify(&table_name)?;
    let catalog = session.catalog();
    let meta = catalog.table(session.database(), &table)?;
    let listed: Vec<String> = if columns.is_empty() { meta.columns.iter().map(|c| c.name.clone()).collect() } else { columns.iter().map(names::ident).collect() };
    let mut types = Vec::with_capacity(listed.len());
    for (i, name) in listed.iter().enumerate() {
        if listed[..i].contains(name) {
            return Err(Error::DuplicateColumn(name.clone()));
        }
        let column = meta.columns.iter().find(|c| &c.name == name).ok_or_else(|| Error::UnknownColumn { table: table.name.clone(), column: name.clone() })?;
        types.push(column.type_name.clone());
    }
    for (what, columns) in [("FORCE_NOT_NULL", &options.force_not_null), ("FORCE_NULL", &options.force_null)] {
        for c in columns {
            if !meta.columns.iter().any(|m| &m.name == c) {
                return Err(Error::UnknownColumn { table: table.name.clone(), column: c.clone() });
            }
            if !listed.contains(c) {
                return Err(Error::InvalidColumnReference(format!("{what} column \"{c}\" not referenced by COPY")));
            }
        }
    }
    let batch_bytes = session.settings().copy_batch_bytes();
    Ok(Output::CopyIn(CopyIn { table, columns: listed, types, options, batch_bytes }))
}

/// A running COPY TO STDOUT: the query's rows, for the wire layer to print.
pub struct CopyOut {
    pub schema: arrow::datatypes::SchemaRef,
    pub stream: datafusion::execution::SendableRecordBatchStream,
    pub options: Options,
    /// Per column: FORCE_QUOTE names it.
    pub force_quote: Vec<bool>,
}

async fn copy_out(session: &mut Session, source: CopySource, options: Options) -> Result<Output> {
    let query = match source {
        CopySource::Query(q) => *q,
        CopySource::Table { table_name, columns } => {
            let table = session.qualify(&table_name)?;
            session.catalog().table(session.database(), &table)?;
            let list = if columns.is_empty() { "*".to_string() } else { columns.iter().map(|c| names::quote_ident(&names::ident(c))).collect::<Vec<_>>().join(", ") };
            let sql = format!("SELECT {list} FROM {}.{}", names::quote_ident(&table.schema), names::quote_ident(&table.name));
            match quartzdb_sql::parse(&sql)?.pop() {
                Some(Statement::Query(q)) => *q,
                _ => return Err(Error::Internal("COPY TO built a statement that is not a query".into())),
            }
        }
    };
    let Output::Rows { schema, stream, .. } = session.run_query(Statement::Query(Box::new(query))).await? else {
        return Err(Error::Internal("COPY TO's query returned no rows".into()));
    };
    let names: Vec<&str> = schema.fields().iter().map(|f| names::client_name(f.name())).collect();
    for c in &options.force_quote {
        if !names.contains(&c.as_str()) {
            return Err(Error::InvalidColumnReference(format!("FORCE_QUOTE column \"{c}\" not referenced by COPY")));
        }
    }
    let force_quote = names.iter().map(|n| options.force_quote.iter().any(|c| c == n)).collect();
    Ok(Output::CopyOut(CopyOut { schema, stream, options, force_quote }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::ast::Statement;

    fn parsed(sql: &str) -> Result<Options> {
        let Some(Statement::Copy { options: with, legacy_options, .. }) = quartzdb_sql::parse(sql).unwrap().pop() else { panic!("{sql}") };
        options(&with, &legacy_options)
    }

    #[test]
    fn options_as_psql_sends_them() {
        assert_eq!(parsed("COPY t FROM STDIN").unwrap(), Options::text());
        assert!(parsed("COPY t FROM STDIN WITH (HEADER)").unwrap().header, "PostgreSQL 15 takes a header in text format too");
        let csv = parsed("COPY t FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'NA')").unwrap();
        assert_eq!(csv, Options { delimiter: b';', null: "NA".into(), header: true, ..Options::csv() });
        assert_eq!(parsed("COPY t FROM STDIN csv header").unwrap(), Options { header: true, ..Options::csv() });
        assert_eq!(parsed("COPY t FROM STDIN WITH (FORMAT csv, ESCAPE '\\')").unwrap().escape, b'\\');
        assert_eq!(parsed("COPY t FROM STDIN WITH (FORMAT binary)").unwrap(), Options::binary());
        assert_eq!(parsed("COPY t FROM STDIN BINARY").unwrap(), Options::binary());
        assert!(matches!(parsed("COPY t FROM STDIN WITH (FORMAT binary, DELIMITER ',')"), Err(Error::Syntax(_))));
        assert!(matches!(parsed("COPY t FROM STDIN WITH (FORMAT binary, HEADER)"), Err(Error::Unsupported(_))));
        let forced = parsed("COPY t FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (a), FORCE_NULL (b, c))").unwrap();
        assert_eq!((forced.force_not_null, forced.force_null), (vec!["a".to_string()], vec!["b".to_string(), "c".to_string()]));
        assert!(matches!(parsed("COPY t FROM STDIN WITH (FORMAT xml)"), Err(Error::InvalidParameter(_))));
    }
}
