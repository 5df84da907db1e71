//! What executing a statement produces: rows (streamed) or a command tag.

use arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;

/// The CommandComplete tag, e.g. `INSERT 0 2`, `UPDATE 1`, `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTag {
    pub command: String,
    /// Row count, for commands that report one.
    pub rows: Option<usize>,
    /// INSERT's tag carries an OID (always 0) before the count.
    pub oid: bool,
    /// Whether the command opened (`Some(true)`) or closed (`Some(false)`) a transaction block.
    pub block: Option<bool>,
}

impl CommandTag {
    pub fn new(command: impl Into<String>) -> Self {
        Self { command: command.into(), rows: None, oid: false, block: None }
    }

    pub fn with_block(mut self, opened: bool) -> Self {
        self.block = Some(opened);
        self
    }

    pub fn with_rows(mut self, rows: usize) -> Self {
        self.rows = Some(rows);
        self
    }

    pub fn insert(rows: usize) -> Self {
        Self { command: "INSERT".into(), rows: Some(rows), oid: true, block: None }
    }
}

impl std::fmt::Display for CommandTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.command)?;
        if self.oid {
            write!(f, " 0")?;
        }
        if let Some(rows) = self.rows {
            write!(f, " {rows}")?;
        }
        Ok(())
    }
}

pub enum Output {
    /// A result set. `command` is the tag's verb (`SELECT`, or `INSERT` for INSERT … RETURNING);
    /// the wire layer appends the row count it streamed.
    Rows { schema: SchemaRef, stream: SendableRecordBatchStream, command: CommandTag },
    /// A command without a result set.
    Command(CommandTag),
    /// COPY FROM STDIN: the client sends the data next (see [`crate::copy`]).
    CopyIn(crate::copy::CopyIn),
    /// COPY TO STDOUT: rows for the wire layer to send as COPY data.
    CopyOut(crate::copy::CopyOut),
    /// Empty statement text.
    Empty,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Rows { schema, command, .. } => write!(f, "Rows({command}, {} columns)", schema.fields().len()),
            Output::Command(tag) => write!(f, "Command({tag})"),
            Output::CopyIn(copy) => write!(f, "CopyIn({} columns)", copy.columns()),
            Output::CopyOut(copy) => write!(f, "CopyOut({} columns)", copy.schema.fields().len()),
            Output::Empty => write!(f, "Empty"),
        }
    }
}
