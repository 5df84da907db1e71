//! Planner errors. Storage and DataFusion errors are carried whole so the wire layer can find
//! their SQLSTATE; the variants here are the user mistakes the planner itself detects.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] quartzdb_storage::Error),

    #[error(transparent)]
    Sql(#[from] quartzdb_sql::Error),

    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    #[error(transparent)]
    Vector(#[from] crate::vector::VectorError),

    #[error(transparent)]
    DateTime(#[from] crate::datetime::DateTimeError),

    #[error(transparent)]
    Copy(#[from] crate::copy::CopyError),

    #[error(transparent)]
    MalformedArray(#[from] crate::array_input::MalformedArray),

    #[error(transparent)]
    InvalidBytea(#[from] crate::bytea_input::InvalidBytea),

    /// A COPY row's error, with the row in PostgreSQL's CONTEXT (`COPY t, line 3, column a: "x"`).
    #[error("{source}")]
    InCopy { context: String, source: Box<Error> },

    /// 22003: `integer out of range` and the like.
    #[error("{0}")]
    OutOfRange(String),

    #[error("{0}")]
    UndefinedFunction(String),

    #[error("{0}")]
    UndefinedObject(String),

    /// 2BP01, with PostgreSQL's DETAIL naming the dependent objects.
    #[error("{message}")]
    DependentObjects { message: String, detail: String },

    #[error("cannot cast type {from} to {to}")]
    CannotCast { from: String, to: String },

    #[error("type \"{0}\" does not exist")]
    UnknownType(String),

    #[error("{0}")]
    InvalidTypeModifier(String),

    #[error("{0} is not supported")]
    Unsupported(String),

    #[error("multiple primary keys for table \"{0}\" are not allowed")]
    MultiplePrimaryKeys(String),

    #[error("column \"{0}\" specified more than once")]
    DuplicateColumn(String),

    #[error("column \"{column}\" of relation \"{table}\" does not exist")]
    UnknownColumn { table: String, column: String },

    #[error("cannot insert a non-DEFAULT value into column \"{0}\"")]
    GeneratedAlways(String),

    #[error("there is no unique or exclusion constraint matching the ON CONFLICT specification")]
    InvalidConflictTarget,

    /// 42P10
    #[error("{0}")]
    InvalidColumnReference(String),

    #[error("constraint \"{0}\" does not exist")]
    UnknownConstraint(String),

    #[error("constraint \"{0}\" is not deferrable")]
    NotDeferrable(String),

    #[error("ON CONFLICT DO UPDATE command cannot affect row a second time")]
    CardinalityViolation,

    #[error("more than one row returned by a subquery used as an expression")]
    SubqueryRows,

    #[error("column \"{0}\" can only be updated to DEFAULT")]
    GeneratedAlwaysUpdate(String),


    #[error("value too long for type {type_name}")]
    StringTooLong { type_name: String },

    #[error("{0}")]
    InvalidParameter(String),

    #[error("there is no parameter {0}")]
    UndefinedParameter(String),

    #[error("{0}")]
    Syntax(String),

    #[error("\"{0}\" is not a table")]
    WrongObjectType(String),

    /// 42P17
    #[error("{0}")]
    InvalidObjectDefinition(String),

    /// 23514: a row a CHECK constraint finds false (`detail`: the row), or existing rows when
    /// the constraint is added.
    #[error("{message}")]
    CheckViolation { message: String, detail: Option<String> },

    /// 42804 outside expressions: a CHECK that is not boolean.
    #[error("{0}")]
    DatatypeMismatch(String),

    #[error("permission denied: {0}")]
    PermissionDenied(String),

    /// 25001: a statement a transaction block does not take.
    #[error("{0}")]
    ActiveTransaction(String),

    /// 25006
    #[error("cannot execute {0} in a read-only transaction")]
    ReadOnlyTransaction(String),

    /// 3B001
    #[error("savepoint \"{0}\" does not exist")]
    UnknownSavepoint(String),

    /// 42P03
    #[error("cursor \"{0}\" already exists")]
    DuplicateCursor(String),

    /// 42710
    #[error("{0}")]
    DuplicateObject(String),

    /// 34000
    #[error("cursor \"{0}\" does not exist")]
    UnknownCursor(String),

    /// 55000
    #[error("cursor can only scan forward")]
    CursorNoScroll,

    /// 42P05
    #[error("prepared statement \"{0}\" already exists")]
    DuplicatePrepared(String),

    /// 26000
    #[error("prepared statement \"{0}\" does not exist")]
    UnknownPrepared(String),

    /// 55P03: waited longer than `lock_timeout` for the write lock.
    #[error("canceling statement due to lock timeout")]
    LockTimeout,

    /// 25P01
    #[error("{0} can only be used in transaction blocks")]
    NoTransactionBlock(String),

    /// 25P02
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    InFailedTransaction,

    #[error("unrecognized configuration parameter \"{0}\"")]
    UnknownSetting(String),

    #[error("parameter \"{0}\" cannot be changed")]
    CantChangeSetting(String),

    #[error("invalid value for parameter \"{name}\": \"{value}\"")]
    InvalidSettingValue { name: String, value: String },

    /// 22004: a NULL where a function needs a value (a JSON object's key).
    #[error("{0}")]
    NullValueNotAllowed(String),

    /// 22025: a LIKE pattern ending in its escape character, or an escape of more than one.
    #[error("{0}")]
    InvalidEscape(String),

    /// 54000: a value past one of PostgreSQL's size limits.
    #[error("{0}")]
    ProgramLimit(String),

    /// 2201B: a regular expression that does not compile.
    #[error("invalid regular expression: {0}")]
    InvalidRegularExpression(String),

    /// A bug in QuartzDB, not a user's mistake.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// PostgreSQL's 42883 for a call no signature of the function takes.
    pub fn no_such_function(name: &str, args: &[arrow::datatypes::DataType]) -> Self {
        let names: Vec<String> = args.iter().map(crate::vector::sql_type_name).collect();
        Error::UndefinedFunction(format!("function {name}({}) does not exist", names.join(", ")))
    }
}

impl From<Error> for datafusion::error::DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(e) => e,
            other => datafusion::error::DataFusionError::External(Box::new(other)),
        }
    }
}
