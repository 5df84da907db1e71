//! Storage errors. Variants carry the facts a user needs; the wire layer maps them to SQLSTATEs.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("data directory {path} is in use by another QuartzDB process")]
    DataDirLocked { path: PathBuf },

    #[error("catalog file {path} is corrupt: {reason}")]
    CorruptCatalog { path: PathBuf, reason: String },

    #[error("database \"{0}\" does not exist")]
    UnknownDatabase(String),

    #[error("schema \"{0}\" does not exist")]
    UnknownSchema(String),

    #[error("schema \"{0}\" already exists")]
    DuplicateSchema(String),

    #[error("schema \"{0}\" cannot be dropped because it is not empty")]
    SchemaNotEmpty(String),

    #[error("relation \"{0}\" does not exist")]
    UnknownTable(String),

    #[error("relation \"{0}\" already exists")]
    DuplicateTable(String),

    #[error("view \"{0}\" does not exist")]
    UnknownView(String),

    #[error("\"{name}\" is not {expected}")]
    WrongObjectType { name: String, expected: &'static str },

    #[error("column \"{column}\" of relation \"{table}\" does not exist")]
    UnknownColumn { table: String, column: String },

    #[error("column \"{column}\" of relation \"{table}\" already exists")]
    DuplicateColumn { table: String, column: String },

    #[error("sequence \"{0}\" does not exist")]
    UnknownSequence(String),

    #[error("nextval: reached maximum value of sequence \"{0}\"")]
    SequenceExhausted(String),

    #[error("setval: value {value} is out of bounds for sequence \"{sequence}\" ({min}..{max})")]
    SequenceValueOutOfBounds { sequence: String, value: i64, min: i64, max: i64 },

    #[error("duplicate key value violates unique constraint \"{constraint}\"")]
    UniqueViolation { constraint: String, detail: String },

    #[error("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint")]
    NotNullViolation { table: String, column: String },

    #[error("could not serialize access due to concurrent update")]
    SerializationFailure(String),

    #[error("index \"{0}\" does not exist")]
    UnknownIndex(String),

    #[error("role \"{0}\" does not exist")]
    UnknownRole(String),

    /// 23502, from SET NOT NULL or ADD PRIMARY KEY over existing rows.
    #[error("column \"{column}\" of relation \"{table}\" contains null values")]
    ColumnContainsNulls { table: String, column: String },

    /// 55006: an object the transaction still needs as it is.
    #[error("{0}")]
    ObjectInUse(String),

    /// 22003, from ALTER COLUMN TYPE to a narrower integer.
    #[error("{0} out of range")]
    ValueOutOfRange(String),

    /// 22001, from ALTER COLUMN TYPE to a shorter `varchar(n)`.
    #[error("value too long for type {0}")]
    ValueTooLong(String),

    /// 42P16
    #[error("{0}")]
    InvalidTableDefinition(String),

    /// 23505, from ADD PRIMARY KEY / UNIQUE over rows that repeat a key.
    #[error("could not create unique index \"{index}\"")]
    DuplicateKeys { index: String, detail: String },

    /// 42710
    #[error("{0}")]
    DuplicateObject(String),

    /// 0A000, with PostgreSQL's DETAIL.
    #[error("cannot truncate a table referenced in a foreign key constraint")]
    TruncateReferenced { detail: String },

    /// 42830: a FOREIGN KEY that cannot reference what it names.
    #[error("{0}")]
    InvalidForeignKey(String),

    /// 23503, with PostgreSQL's DETAIL naming the key.
    #[error("{message}")]
    ForeignKeyViolation { message: String, detail: String },

    /// 2BP01: dropping what a FOREIGN KEY depends on, without CASCADE.
    #[error("{message}")]
    DependentObjects { message: String, detail: String },

    /// 42704
    #[error("constraint \"{name}\" of relation \"{table}\" does not exist")]
    UnknownConstraint { table: String, name: String },

    /// 42704, as `COMMENT ON CONSTRAINT` words it.
    #[error("constraint \"{name}\" for table \"{table}\" does not exist")]
    NoConstraintFor { table: String, name: String },

    /// 42704: an access method or operator class QuartzDB does not know.
    #[error("{0}")]
    UnknownIndexObject(String),

    /// 22023, with PostgreSQL's DETAIL giving the valid range.
    #[error("{message}")]
    InvalidIndexOption { message: String, detail: Option<String> },

    /// 42804: an operator class used on a column of another type.
    #[error("{0}")]
    IndexTypeMismatch(String),

    #[error("feature not supported: {0}")]
    Unsupported(String),

    #[error(transparent)]
    Lance(#[from] lance::Error),

    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    /// A bug in QuartzDB, not a user's mistake.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
