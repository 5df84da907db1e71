//! The one mapping from QuartzDB's errors to PostgreSQL SQLSTATE codes, applied at the wire boundary.
//!
//! Errors travel up as typed values (storage → planner → DataFusion's `External`), so the code is
//! found by walking the chain here rather than by each layer guessing. A user's mistake must never
//! leave as `XX000`; that code is reserved for bugs.

use std::error::Error as StdError;

use arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use quartzdb_planner::Error as PlannerError;
use quartzdb_planner::StorageError;
use quartzdb_planner::vector::VectorError;

/// PostgreSQL error codes QuartzDB sends (Appendix A of the PostgreSQL manual).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlState {
    FeatureNotSupported,
    InvalidCatalogName,
    SyntaxError,
    UndefinedTable,
    UndefinedColumn,
    UndefinedObject,
    UndefinedFunction,
    UndefinedParameter,
    AmbiguousColumn,
    DuplicateTable,
    DuplicateSchema,
    DuplicateColumn,
    InvalidSchemaName,
    DatatypeMismatch,
    WrongObjectType,
    InvalidTableDefinition,
    InvalidParameterValue,
    CantChangeRuntimeParam,
    DependentObjectsStillExist,
    GeneratedAlways,
    InsufficientPrivilege,
    NotNullViolation,
    UniqueViolation,
    ForeignKeyViolation,
    CheckViolation,
    InvalidForeignKey,
    DivisionByZero,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
    InvalidDatetimeFormat,
    DatetimeFieldOverflow,
    IntervalFieldOverflow,
    BadCopyFileFormat,
    InvalidBinaryRepresentation,
    StringDataRightTruncation,
    DataException,
    SequenceGeneratorLimitExceeded,
    ProgramLimitExceeded,
    StringDataLengthMismatch,
    InvalidEscapeSequence,
    InvalidRegularExpression,
    NoActiveSqlTransaction,
    InFailedSqlTransaction,
    ActiveSqlTransaction,
    ReadOnlySqlTransaction,
    InvalidSavepointSpecification,
    LockNotAvailable,
    DuplicatePreparedStatement,
    InvalidSqlStatementName,
    DuplicateCursor,
    DuplicateObject,
    InvalidObjectDefinition,
    InvalidCursorName,
    ObjectNotInPrerequisiteState,
    ObjectInUse,
    NullValueNotAllowed,
    CannotCoerce,
    SerializationFailure,
    QueryCanceled,
    CardinalityViolation,
    InvalidColumnReference,
    OutOfMemory,
    IoError,
    ProtocolViolation,
    InternalError,
}

impl SqlState {
    pub fn code(self) -> &'static str {
        use SqlState::*;
        match self {
            FeatureNotSupported => "0A000",
            InvalidCatalogName => "3D000",
            SyntaxError => "42601",
            UndefinedTable => "42P01",
            UndefinedColumn => "42703",
            UndefinedObject => "42704",
            UndefinedFunction => "42883",
            UndefinedParameter => "42P02",
            AmbiguousColumn => "42702",
            DuplicateTable => "42P07",
            DuplicateSchema => "42P06",
            DuplicateColumn => "42701",
            InvalidSchemaName => "3F000",
            DatatypeMismatch => "42804",
            WrongObjectType => "42809",
            InvalidTableDefinition => "42P16",
            InvalidParameterValue => "22023",
            ProgramLimitExceeded => "54000",
            StringDataLengthMismatch => "22026",
            InvalidEscapeSequence => "22025",
            InvalidRegularExpression => "2201B",
            NoActiveSqlTransaction => "25P01",
            InFailedSqlTransaction => "25P02",
            ActiveSqlTransaction => "25001",
            ReadOnlySqlTransaction => "25006",
            InvalidSavepointSpecification => "3B001",
            LockNotAvailable => "55P03",
            DuplicatePreparedStatement => "42P05",
            InvalidSqlStatementName => "26000",
            DuplicateCursor => "42P03",
            DuplicateObject => "42710",
            InvalidObjectDefinition => "42P17",
            InvalidCursorName => "34000",
            ObjectNotInPrerequisiteState => "55000",
            ObjectInUse => "55006",
            NullValueNotAllowed => "22004",
            CannotCoerce => "42846",
            CantChangeRuntimeParam => "55P02",
            DependentObjectsStillExist => "2BP01",
            GeneratedAlways => "428C9",
            InsufficientPrivilege => "42501",
            NotNullViolation => "23502",
            UniqueViolation => "23505",
            ForeignKeyViolation => "23503",
            CheckViolation => "23514",
            InvalidForeignKey => "42830",
            DivisionByZero => "22012",
            InvalidTextRepresentation => "22P02",
            NumericValueOutOfRange => "22003",
            InvalidDatetimeFormat => "22007",
            DatetimeFieldOverflow => "22008",
            IntervalFieldOverflow => "22015",
            BadCopyFileFormat => "22P04",
            InvalidBinaryRepresentation => "22P03",
            StringDataRightTruncation => "22001",
            DataException => "22000",
            SequenceGeneratorLimitExceeded => "2200H",
            SerializationFailure => "40001",
            QueryCanceled => "57014",
            CardinalityViolation => "21000",
            InvalidColumnReference => "42P10",
            OutOfMemory => "53200",
            IoError => "58030",
            ProtocolViolation => "08P01",
            InternalError => "XX000",
        }
    }
}

/// Finds the SQLSTATE for any error QuartzDB can produce, looking through wrappers.
pub fn classify(err: &(dyn StdError + 'static)) -> SqlState {
    if let Some(e) = err.downcast_ref::<PlannerError>() {
        return planner(e);
    }
    if let Some(e) = err.downcast_ref::<StorageError>() {
        return storage(e);
    }
    if let Some(e) = err.downcast_ref::<DataFusionError>() {
        return datafusion(e);
    }
    if let Some(e) = err.downcast_ref::<ArrowError>() {
        return arrow(e);
    }
    if let Some(e) = err.downcast_ref::<quartzdb_sql::Error>() {
        return sql(e);
    }
    match err.source() {
        Some(inner) => classify(inner),
        None => SqlState::InternalError,
    }
}

fn sql(e: &quartzdb_sql::Error) -> SqlState {
    match e {
        quartzdb_sql::Error::Syntax(_) => SqlState::SyntaxError,
        quartzdb_sql::Error::UndefinedFunction(_) => SqlState::UndefinedFunction,
        quartzdb_sql::Error::InvalidArgument(_) => SqlState::InvalidParameterValue,
    }
}

fn planner(e: &PlannerError) -> SqlState {
    use SqlState::*;
    match e {
        PlannerError::Storage(e) => storage(e),
        PlannerError::Sql(e) => sql(e),
        PlannerError::Syntax(_) => SyntaxError,
        PlannerError::DataFusion(e) => datafusion(e),
        PlannerError::Arrow(e) => arrow(e),
        PlannerError::UnknownType(_) => UndefinedObject,
        PlannerError::InvalidTypeModifier(_) | PlannerError::InvalidParameter(_) => InvalidParameterValue,
        PlannerError::Unsupported(_) => FeatureNotSupported,
        PlannerError::ActiveTransaction(_) => ActiveSqlTransaction,
        PlannerError::ReadOnlyTransaction(_) => ReadOnlySqlTransaction,
        PlannerError::UnknownSavepoint(_) => InvalidSavepointSpecification,
        PlannerError::LockTimeout => LockNotAvailable,
        PlannerError::DuplicatePrepared(_) => DuplicatePreparedStatement,
        PlannerError::UnknownPrepared(_) => InvalidSqlStatementName,
        PlannerError::DuplicateCursor(_) => DuplicateCursor,
        PlannerError::DuplicateObject(_) => DuplicateObject,
        PlannerError::InvalidObjectDefinition(_) => InvalidObjectDefinition,
        PlannerError::CheckViolation { .. } => CheckViolation,
        PlannerError::DatatypeMismatch(_) => DatatypeMismatch,
        PlannerError::UnknownCursor(_) => InvalidCursorName,
        PlannerError::CursorNoScroll | PlannerError::NotDeferrable(_) => ObjectNotInPrerequisiteState,
        PlannerError::MultiplePrimaryKeys(_) => InvalidTableDefinition,
        PlannerError::DuplicateColumn(_) => DuplicateColumn,
        PlannerError::UnknownColumn { .. } => UndefinedColumn,
        PlannerError::UndefinedParameter(_) => UndefinedParameter,
        PlannerError::GeneratedAlways(_) => GeneratedAlways,
        PlannerError::GeneratedAlwaysUpdate(_) => GeneratedAlways,
        PlannerError::InvalidConflictTarget | PlannerError::InvalidColumnReference(_) => InvalidColumnReference,
        PlannerError::UnknownConstraint(_) => UndefinedObject,
        PlannerError::CardinalityViolation | PlannerError::SubqueryRows => CardinalityViolation,
        PlannerError::StringTooLong { .. } => StringDataRightTruncation,
        PlannerError::WrongObjectType(_) => WrongObjectType,
        PlannerError::PermissionDenied(_) => InsufficientPrivilege,
        PlannerError::UnknownSetting(_) => UndefinedObject,
        PlannerError::CantChangeSetting(_) => CantChangeRuntimeParam,
        PlannerError::InvalidSettingValue { .. } => InvalidParameterValue,
        PlannerError::Internal(_) => InternalError,
        PlannerError::Vector(e) => vector(e),
        PlannerError::DateTime(e) => datetime(e),
        PlannerError::Copy(_) => BadCopyFileFormat,
        PlannerError::InCopy { source, .. } => planner(source),
        PlannerError::MalformedArray(_) => InvalidTextRepresentation,
        PlannerError::InvalidBytea(quartzdb_planner::bytea_input::InvalidBytea::Syntax) => InvalidTextRepresentation,
        PlannerError::InvalidBytea(_) => InvalidParameterValue,
        PlannerError::OutOfRange(_) => NumericValueOutOfRange,
        PlannerError::InvalidEscape(_) => InvalidEscapeSequence,
        PlannerError::InvalidRegularExpression(_) => InvalidRegularExpression,
        PlannerError::ProgramLimit(_) => ProgramLimitExceeded,
        PlannerError::NullValueNotAllowed(_) => NullValueNotAllowed,
        PlannerError::UndefinedFunction(_) => UndefinedFunction,
        PlannerError::UndefinedObject(_) => UndefinedObject,
        PlannerError::NoTransactionBlock(_) => NoActiveSqlTransaction,
        PlannerError::InFailedTransaction => InFailedSqlTransaction,
        PlannerError::DependentObjects { .. } => DependentObjectsStillExist,
        PlannerError::CannotCast { .. } => CannotCoerce,
    }
}

fn datetime(e: &quartzdb_planner::datetime::DateTimeError) -> SqlState {
    use quartzdb_planner::datetime::DateTimeError::*;
    match e {
        Syntax { .. } => SqlState::InvalidDatetimeFormat,
        FieldOutOfRange(_) => SqlState::DatetimeFieldOverflow,
        IntervalOutOfRange(_) => SqlState::IntervalFieldOverflow,
        UnknownZone(_) => SqlState::InvalidParameterValue,
        Unsupported(_) => SqlState::FeatureNotSupported,
    }
}

/// pgvector's codes for its errors.
pub fn vector(e: &VectorError) -> SqlState {
    use SqlState::*;
    match e {
        VectorError::InvalidInput { .. } | VectorError::InvalidDigit { .. } => InvalidTextRepresentation,
        VectorError::BitLengthMismatch { .. } => StringDataLengthMismatch,
        VectorError::BitTooLong { .. } => StringDataRightTruncation,
        VectorError::DifferentBitLengths { .. } => DataException,
        VectorError::OutOfRange { .. } | VectorError::Overflow | VectorError::Underflow => NumericValueOutOfRange,
        VectorError::TooManyDims { .. } | VectorError::TooManyNonZero { .. } => ProgramLimitExceeded,
        VectorError::SparseDuplicate | VectorError::SparseOutOfBounds => DataException,
        VectorError::TypmodTooSmall { .. } | VectorError::TypmodTooLarge { .. } => InvalidParameterValue,
        VectorError::ArrayNulls => NullValueNotAllowed,
        VectorError::Empty { .. }
        | VectorError::NaN { .. }
        | VectorError::Infinite { .. }
        | VectorError::DifferentDims { .. }
        | VectorError::ExpectedDims { .. }
        | VectorError::ArrayNot1D => DataException,
    }
}

fn storage(e: &StorageError) -> SqlState {
    use SqlState::*;
    match e {
        StorageError::UnknownDatabase(_) => InvalidCatalogName,
        StorageError::UnknownSchema(_) => InvalidSchemaName,
        StorageError::DuplicateSchema(_) => DuplicateSchema,
        StorageError::SchemaNotEmpty(_) | StorageError::DependentObjects { .. } => DependentObjectsStillExist,
        StorageError::ForeignKeyViolation { .. } => ForeignKeyViolation,
        StorageError::InvalidForeignKey(_) => InvalidForeignKey,
        StorageError::DuplicateObject(_) => DuplicateObject,
        StorageError::TruncateReferenced { .. } => FeatureNotSupported,
        StorageError::UnknownTable(_) | StorageError::UnknownView(_) => UndefinedTable,
        StorageError::WrongObjectType { .. } => WrongObjectType,
        StorageError::DuplicateTable(_) => DuplicateTable,
        StorageError::UnknownColumn { .. } => UndefinedColumn,
        StorageError::DuplicateColumn { .. } => DuplicateColumn,
        StorageError::UnknownSequence(_) => UndefinedTable,
        StorageError::SequenceExhausted(_) => SequenceGeneratorLimitExceeded,
        StorageError::SequenceValueOutOfBounds { .. } | StorageError::ValueOutOfRange(_) => NumericValueOutOfRange,
        StorageError::ObjectInUse(_) => ObjectInUse,
        StorageError::UniqueViolation { .. } | StorageError::DuplicateKeys { .. } => UniqueViolation,
        StorageError::NotNullViolation { .. } | StorageError::ColumnContainsNulls { .. } => NotNullViolation,
        StorageError::ValueTooLong(_) => StringDataRightTruncation,
        StorageError::InvalidTableDefinition(_) => InvalidTableDefinition,
        StorageError::UnknownConstraint { .. } | StorageError::NoConstraintFor { .. } => UndefinedObject,
        StorageError::SerializationFailure(_) => SerializationFailure,
        StorageError::Unsupported(_) => FeatureNotSupported,
        StorageError::UnknownIndex(_) | StorageError::UnknownIndexObject(_) | StorageError::UnknownRole(_) => UndefinedObject,
        StorageError::InvalidIndexOption { .. } => InvalidParameterValue,
        StorageError::IndexTypeMismatch(_) => DatatypeMismatch,
        StorageError::Io { .. } => IoError,
        StorageError::DataFusion(e) => datafusion(e),
        StorageError::Arrow(e) => arrow(e),
        StorageError::DataDirLocked { .. }
        | StorageError::CorruptCatalog { .. }
        | StorageError::Lance(_)
        | StorageError::Internal(_) => InternalError,
    }
}

fn datafusion(e: &DataFusionError) -> SqlState {
    use SqlState::*;
    match e {
        DataFusionError::SQL(..) => SyntaxError,
        DataFusionError::SchemaError(e, _) => match e.as_ref() {
            SchemaError::FieldNotFound { .. } => UndefinedColumn,
            SchemaError::AmbiguousReference { .. } => AmbiguousColumn,
            SchemaError::DuplicateQualifiedField { .. } | SchemaError::DuplicateUnqualifiedField { .. } => {
                DuplicateColumn
            }
        },
        DataFusionError::Plan(msg) => plan_message(msg),
        DataFusionError::Execution(msg) => execution_message(msg),
        DataFusionError::ExecutionJoin(_) => InternalError,
        DataFusionError::NotImplemented(_) => FeatureNotSupported,
        DataFusionError::ResourcesExhausted(_) => OutOfMemory,
        DataFusionError::IoError(_) | DataFusionError::ObjectStore(_) => IoError,
        DataFusionError::ArrowError(e, _) => arrow(e),
        DataFusionError::External(e) => classify(e.as_ref()),
        DataFusionError::Context(_, e) => datafusion(e),
        DataFusionError::Shared(e) => datafusion(e),
        DataFusionError::Diagnostic(_, e) => datafusion(e),
        DataFusionError::Collection(errs) => errs.first().map(datafusion).unwrap_or(InternalError),
        DataFusionError::Configuration(_) => InvalidParameterValue,
        _ => InternalError,
    }
}

/// DataFusion reports most planning mistakes as `Plan` with a message; these are the user errors
/// it distinguishes only by text.
fn plan_message(msg: &str) -> SqlState {
    use SqlState::*;
    let m = msg.to_ascii_lowercase();
    if m.contains("table") && (m.contains("not found") || m.contains("doesn't exist")) {
        UndefinedTable
    } else if m.contains("function") && (m.contains("not found") || m.contains("invalid function") || m.contains("no function matches")) {
        UndefinedFunction
    } else if m.contains("placeholder") || m.contains("parameter") {
        UndefinedParameter
    } else if m.contains("coerc") || m.contains("cannot cast") || m.contains("not supported for types") || m.contains("type") {
        DatatypeMismatch
    } else if m.contains("division by zero") || m.contains("divide by zero") {
        DivisionByZero
    } else {
        SyntaxError
    }
}

fn execution_message(msg: &str) -> SqlState {
    use SqlState::*;
    let m = msg.to_ascii_lowercase();
    if m.contains("divide by zero") || m.contains("division by zero") {
        DivisionByZero
    } else if m.contains("overflow") || m.contains("out of range") {
        NumericValueOutOfRange
    } else if m.contains("cannot cast") || m.contains("invalid") || m.contains("parse") {
        InvalidTextRepresentation
    } else {
        DataException
    }
}

/// A failed cast to an integer type, in PostgreSQL's terms: its SQLSTATE and message. Arrow says
/// "value of 2147483648 is out of range Int32" or "Can't cast value 1e10 to type Int32" for a
/// number that does not fit (PostgreSQL: 22003 "integer out of range"), and "Cannot cast string
/// 'x' to value of Int32 type" for text (22003 `value "x" is out of range for type integer` when
/// it is a whole number, else 22P02 `invalid input syntax for type integer: "x"`; the same
/// for `real` and `double precision`).
pub fn integer_cast(m: &str) -> Option<(SqlState, String)> {
    let types = [("Int16", "smallint"), ("Int32", "integer"), ("Int64", "bigint")];
    if let Some(rest) = m.strip_prefix("Cannot cast string '") {
        let (value, target) = rest.rsplit_once("' to value of ")?;
        let floats = [("Float32", "real"), ("Float64", "double precision")];
        let (_, pg) = types.iter().chain(&floats).find(|(t, _)| target == format!("{t} type"))?;
        // Only a plain whole number failed for its size (Arrow takes no surrounding spaces).
        let digits = value.trim_start_matches(['+', '-']);
        let integer = types.iter().any(|(_, t)| t == pg);
        return Some(if integer && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            (SqlState::NumericValueOutOfRange, format!("value \"{value}\" is out of range for type {pg}"))
        } else {
            (SqlState::InvalidTextRepresentation, format!("invalid input syntax for type {pg}: \"{value}\""))
        });
    }
    if !(m.contains("is out of range") || m.starts_with("Can't cast value")) {
        return None;
    }
    let (_, pg) = types.iter().find(|(t, _)| m.ends_with(t))?;
    Some((SqlState::NumericValueOutOfRange, format!("{pg} out of range")))
}

fn arrow(e: &ArrowError) -> SqlState {
    use SqlState::*;
    match e {
        ArrowError::DivideByZero => DivisionByZero,
        ArrowError::ArithmeticOverflow(_) => NumericValueOutOfRange,
        ArrowError::CastError(m) | ArrowError::ParseError(m) => {
            if let ArrowError::CastError(_) = e
                && let Some((state, _)) = integer_cast(m)
            {
                return state;
            }
            // "Can't cast value 2147483648 to type Int32": a number that does not fit.
            if m.to_ascii_lowercase().contains("overflow") || m.contains("too large") || m.starts_with("Can't cast value") {
                NumericValueOutOfRange
            } else {
                InvalidTextRepresentation
            }
        }
        ArrowError::ComputeError(m) if m.to_ascii_lowercase().contains("overflow") => NumericValueOutOfRange,
        ArrowError::ExternalError(inner) => classify(inner.as_ref()),
        ArrowError::MemoryError(_) => OutOfMemory,
        ArrowError::IoError(..) => IoError,
        _ => DataException,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_casts_fail_in_postgresql_terms() {
        let cases = [
            ("value of 40000 is out of range Int16", Some(("22003", "smallint out of range"))),
            ("value of 2147483648 is out of range Int32", Some(("22003", "integer out of range"))),
            ("Can't cast value 10000000000 to type Int16", Some(("22003", "smallint out of range"))),
            ("Cannot cast string '99999999999' to value of Int32 type", Some(("22003", "value \"99999999999\" is out of range for type integer"))),
            ("Cannot cast string '-99999999999999999999' to value of Int64 type", Some(("22003", "value \"-99999999999999999999\" is out of range for type bigint"))),
            ("Cannot cast string ' 12 ' to value of Int32 type", Some(("22P02", "invalid input syntax for type integer: \" 12 \""))),
            ("Cannot cast string 'abc' to value of Float64 type", Some(("22P02", "invalid input syntax for type double precision: \"abc\""))),
            ("Cannot cast string 'abc' to value of Int32 type", Some(("22P02", "invalid input syntax for type integer: \"abc\""))),
            ("Cannot cast string 'abc' to value of Utf8View type", None),
        ];
        for (m, want) in cases {
            let got = integer_cast(m).map(|(state, msg)| (state.code(), msg));
            assert_eq!(got, want.map(|(c, msg)| (c, msg.to_string())), "{m}");
        }
    }

    fn df_external(e: PlannerError) -> DataFusionError {
        DataFusionError::External(Box::new(e))
    }

    #[test]
    fn storage_errors_keep_their_code_through_datafusion() {
        let e = df_external(PlannerError::Storage(StorageError::UniqueViolation {
            constraint: "t_pkey".into(),
            detail: "Key (id)=(1) already exists.".into(),
        }));
        assert_eq!(classify(&e).code(), "23505");
        let e = DataFusionError::Context("while inserting".into(), Box::new(df_external(PlannerError::Storage(
            StorageError::NotNullViolation { table: "t".into(), column: "c".into() },
        ))));
        assert_eq!(classify(&e).code(), "23502");
    }

    #[test]
    fn each_user_error_has_its_code() {
        let cases: Vec<(Box<dyn StdError + Send + Sync>, &str)> = vec![
            (Box::new(StorageError::UnknownDatabase("x".into())), "3D000"),
            (Box::new(StorageError::UnknownTable("x".into())), "42P01"),
            (Box::new(StorageError::DuplicateTable("x".into())), "42P07"),
            (Box::new(StorageError::DuplicateSchema("x".into())), "42P06"),
            (Box::new(StorageError::UnknownSchema("x".into())), "3F000"),
            (Box::new(StorageError::SchemaNotEmpty("x".into())), "2BP01"),
            (Box::new(StorageError::SerializationFailure("x".into())), "40001"),
            (Box::new(StorageError::SequenceExhausted("x".into())), "2200H"),
            (Box::new(PlannerError::UnknownType("x".into())), "42704"),
            (Box::new(PlannerError::Unsupported("x".into())), "0A000"),
            (Box::new(PlannerError::ReadOnlyTransaction("x".into())), "25006"),
            (Box::new(PlannerError::UnknownSavepoint("x".into())), "3B001"),
            (Box::new(PlannerError::LockTimeout), "55P03"),
            (Box::new(PlannerError::StringTooLong { type_name: "x".into() }), "22001"),
            (Box::new(PlannerError::GeneratedAlways("x".into())), "428C9"),
            (Box::new(PlannerError::MultiplePrimaryKeys("x".into())), "42P16"),
            (Box::new(PlannerError::UnknownSetting("x".into())), "42704"),
            (Box::new(quartzdb_sql::Error::Syntax("x".into())), "42601"),
            (Box::new(quartzdb_sql::Error::UndefinedFunction("x".into())), "42883"),
            (Box::new(quartzdb_sql::Error::InvalidArgument("x".into())), "22023"),
            (Box::new(ArrowError::DivideByZero), "22012"),
            (Box::new(ArrowError::CastError("Cannot cast string 'x' to value of Int32 type".into())), "22P02"),
            (Box::new(ArrowError::CastError("Can't cast value 2147483648 to type Int32".into())), "22003"),
            (Box::new(DataFusionError::Plan("table 'quartz.public.nope' not found".into())), "42P01"),
            (Box::new(DataFusionError::NotImplemented("x".into())), "0A000"),
            (Box::new(DataFusionError::ResourcesExhausted("x".into())), "53200"),
            (Box::new(DataFusionError::Execution("Divide by zero error".into())), "22012"),
        ];
        for (err, code) in cases {
            assert_eq!(classify(err.as_ref()).code(), code, "{err}");
        }
    }

    #[test]
    fn only_bugs_are_internal() {
        assert_eq!(classify(&PlannerError::Internal("bug".into())).code(), "XX000");
        assert_eq!(classify(&DataFusionError::Internal("bug".into())).code(), "XX000");
    }
}
