//! PostgreSQL column types and how QuartzDB stores them in Arrow (and so in Lance).
//!
//! Each column keeps the name PostgreSQL's `format_type` prints (for catalogs and error messages)
//! and an Arrow type chosen so values round-trip: timestamps in microseconds as in Postgres,
//! `timestamptz` as UTC instants, `numeric(p,s)` as Decimal128.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion::sql::sqlparser::ast::{self, ArrayElemTypeDef, CharacterLength, ExactNumberInfo, TimezoneInfo};

use crate::error::{Error, Result};

/// Precision and scale used for `numeric` without a type modifier. Postgres's numeric is
/// unbounded; Decimal128 is not, so unconstrained numerics get the widest precision.
pub const DEFAULT_NUMERIC: (u8, i8) = (38, 10);

/// Field-metadata key naming the PostgreSQL type of a column Arrow stores as another type
/// (`uuid`, `json`, `jsonb` are Utf8), so the wire layer reports the right type OID.
pub const PG_TYPE_METADATA: &str = "quartzdb.pg_type";

/// Field-metadata key marking a result column that is a table's column: `<table oid>.<attnum>`
/// (see `declared_types`).
pub const PG_SOURCE_METADATA: &str = "quartzdb.pg_source";

/// The catalogs' vectors of small integers and OIDs (`pg_index.indkey`, `indclass`): arrays
/// in SQL, sent as PostgreSQL sends these types (space-separated text; SQLAlchemy splits it).
pub const INT2VECTOR: &str = "int2vector";
pub const OIDVECTOR: &str = "oidvector";

/// The field metadata a column of type `pg_name` carries.
pub fn field_metadata(pg_name: &str) -> std::collections::HashMap<String, String> {
    let base = pg_name.split('(').next().unwrap_or(pg_name);
    match base {
        "uuid" | "json" | "jsonb" | "regtype" | "regclass" | "regnamespace" | "regrole" | "regproc" | "\"char\"" | INT2VECTOR | OIDVECTOR => {
            [(PG_TYPE_METADATA.to_string(), base.to_string())].into()
        }
        _ => Default::default(),
    }
}

/// The SQL that assigns `expr` to a column of type `type_name`, for the types whose assignment
/// QuartzDB performs itself (Arrow has no casts to them): vectors, and bit strings, whose
/// assignment checks the length where an explicit cast would truncate. `None` for other types.
pub fn assignment_sql(type_name: &str, expr: &str) -> Option<String> {
    let base = type_name.split('(').next().unwrap_or(type_name);
    let length = || type_name.split_once('(').and_then(|(_, n)| n.trim_end_matches(')').parse::<i32>().ok()).unwrap_or(-1);
    if crate::vector::Kind::from_name(base).is_some() || base == crate::vector::sparse::SPARSEVEC {
        Some(format!("CAST(({expr}) AS {type_name})"))
    } else if base == "bit" || base == "bit varying" {
        Some(format!("{}(({expr}), {}, {}, 0)", crate::vector::bit::TO_BIT, length(), (base == "bit varying") as i32))
    } else {
        None
    }
}

/// Refuses column types storage cannot keep: arrays of intervals (intervals themselves are
/// encoded by storage, as Lance 14 has no interval type).
pub fn check_storable(ty: &ColumnType) -> Result<()> {
    if let DataType::List(f) = &ty.arrow
        && matches!(f.data_type(), DataType::Interval(_))
    {
        return Err(Error::Unsupported(format!("columns of type {}", ty.pg_name)));
    }
    Ok(())
}

/// A column type as declared in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnType {
    pub arrow: DataType,
    /// As PostgreSQL's `format_type` prints it.
    pub pg_name: String,
    /// `serial`-style types: the column takes its default from an owned sequence.
    pub serial: bool,
}

impl ColumnType {
    fn plain(arrow: DataType, pg_name: impl Into<String>) -> Self {
        Self { arrow, pg_name: pg_name.into(), serial: false }
    }
}

/// Maps a declared SQL type to its Arrow storage type and Postgres name.
pub fn column_type(dt: &ast::DataType) -> Result<ColumnType> {
    use ast::DataType as D;
    Ok(match dt {
        D::SmallInt(_) | D::Int2(_) => ColumnType::plain(DataType::Int16, "smallint"),
        D::Int(_) | D::Integer(_) | D::Int4(_) => ColumnType::plain(DataType::Int32, "integer"),
        D::BigInt(_) | D::Int8(_) => ColumnType::plain(DataType::Int64, "bigint"),
        D::Real | D::Float4 => ColumnType::plain(DataType::Float32, "real"),
        D::DoublePrecision | D::Float8 | D::Double(ExactNumberInfo::None) => {
            ColumnType::plain(DataType::Float64, "double precision")
        }
        D::Float(info) => match info {
            ExactNumberInfo::Precision(p) if *p <= 24 => ColumnType::plain(DataType::Float32, "real"),
            _ => ColumnType::plain(DataType::Float64, "double precision"),
        },
        D::Numeric(info) | D::Decimal(info) | D::Dec(info) => numeric(info)?,
        D::Bool | D::Boolean => ColumnType::plain(DataType::Boolean, "boolean"),
        D::Text | D::String(None) => ColumnType::plain(DataType::Utf8, "text"),
        D::Varchar(len) | D::CharacterVarying(len) | D::CharVarying(len) => {
            check_length("varchar", len.as_ref())?;
            ColumnType::plain(DataType::Utf8, with_length("character varying", len.as_ref()))
        }
        D::Char(len) | D::Character(len) => {
            check_length("char", len.as_ref())?;
            ColumnType::plain(DataType::Utf8, with_length("character", Some(len.as_ref().unwrap_or(&one_char()))))
        }
        D::Bytea => ColumnType::plain(DataType::Binary, "bytea"),
        D::Date => ColumnType::plain(DataType::Date32, "date"),
        D::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            ColumnType::plain(DataType::Time64(TimeUnit::Microsecond), "time without time zone")
        }
        D::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            ColumnType::plain(DataType::Timestamp(TimeUnit::Microsecond, None), "timestamp without time zone")
        }
        D::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
            ColumnType::plain(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), "timestamp with time zone")
        }
        D::Interval { .. } => ColumnType::plain(DataType::Interval(IntervalUnit::MonthDayNano), "interval"),
        D::Bit(n) => ColumnType::plain(crate::vector::bit::bit_type(), format!("bit({})", n.unwrap_or(1))),
        D::BitVarying(n) | D::VarBit(n) => ColumnType::plain(
            crate::vector::bit::bit_type(),
            n.map_or("bit varying".to_string(), |n| format!("bit varying({n})")),
        ),
        D::Uuid => ColumnType::plain(DataType::Utf8, "uuid"),
        D::Regclass => ColumnType::plain(DataType::Utf8, "regclass"),
        D::JSON => ColumnType::plain(DataType::Utf8, "json"),
        D::JSONB => ColumnType::plain(DataType::Utf8, "jsonb"),
        D::Array(ArrayElemTypeDef::SquareBracket(inner, _) | ArrayElemTypeDef::AngleBracket(inner)) => {
            let inner = column_type(inner)?;
            if matches!(inner.arrow, DataType::List(_) | DataType::FixedSizeList(..)) || inner.serial {
                return Err(Error::Unsupported(format!("array of {}", inner.pg_name)));
            }
            ColumnType::plain(
                DataType::List(Arc::new(Field::new("item", inner.arrow, true))),
                format!("{}[]", inner.pg_name),
            )
        }
        D::Custom(name, modifiers) if crate::vector::Kind::from_name(&name.to_string().to_ascii_lowercase()).is_some() => {
            vector(crate::vector::Kind::from_name(&name.to_string().to_ascii_lowercase()).expect("checked"), modifiers)?
        }
        D::Custom(name, modifiers) if name.to_string().eq_ignore_ascii_case(crate::vector::sparse::SPARSEVEC) => sparsevec(modifiers)?,
        D::Custom(name, modifiers) if modifiers.is_empty() => custom(&name.to_string().to_ascii_lowercase())?,
        other => return Err(Error::Unsupported(format!("type {other}"))),
    })
}

fn one_char() -> CharacterLength {
    CharacterLength::IntegerLength { length: 1, unit: None }
}

/// The `n` of `character varying(n)` and `character(n)` (not of arrays of them): their length
/// limit in characters.
pub fn char_limit(type_name: &str) -> Option<usize> {
    let rest = type_name.strip_prefix("character varying(").or_else(|| type_name.strip_prefix("character("))?;
    rest.strip_suffix(')')?.parse().ok()
}

/// PostgreSQL's bounds on a `char(n)` / `varchar(n)` length (22023 outside them).
fn check_length(name: &str, len: Option<&CharacterLength>) -> Result<()> {
    match len {
        Some(CharacterLength::IntegerLength { length: 0, .. }) => Err(Error::InvalidTypeModifier(format!("length for type {name} must be at least 1"))),
        Some(CharacterLength::IntegerLength { length, .. }) if *length > 10_485_760 => {
            Err(Error::InvalidTypeModifier(format!("length for type {name} cannot exceed 10485760")))
        }
        _ => Ok(()),
    }
}

fn with_length(base: &str, len: Option<&CharacterLength>) -> String {
    match len {
        Some(CharacterLength::IntegerLength { length, .. }) => format!("{base}({length})"),
        _ => base.to_string(),
    }
}

fn numeric(info: &ExactNumberInfo) -> Result<ColumnType> {
    let (p, s) = match info {
        ExactNumberInfo::None => return Ok(ColumnType::plain(decimal(DEFAULT_NUMERIC.0, DEFAULT_NUMERIC.1), "numeric")),
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
    };
    if !(1..=38).contains(&p) {
        return Err(Error::InvalidTypeModifier(format!("NUMERIC precision {p} must be between 1 and 38")));
    }
    if s < 0 || s as u64 > p {
        return Err(Error::InvalidTypeModifier(format!("NUMERIC scale {s} must be between 0 and precision {p}")));
    }
    Ok(ColumnType::plain(decimal(p as u8, s as i8), format!("numeric({p},{s})")))
}

fn decimal(p: u8, s: i8) -> DataType {
    DataType::Decimal128(p, s)
}

/// `vector(n)` / `halfvec(n)` (or without `n`), with pgvector's limits on `n`.
fn vector(kind: crate::vector::Kind, modifiers: &[String]) -> Result<ColumnType> {
    use crate::vector::{VECTOR_MAX_DIM, VectorError};
    let ty = kind.name();
    let dims = match modifiers {
        [] => None,
        [n] => {
            let n: i64 = n.trim().parse().map_err(|_| Error::InvalidTypeModifier("invalid type modifier".into()))?;
            if n < 1 {
                return Err(VectorError::TypmodTooSmall { ty }.into());
            }
            if n as usize > VECTOR_MAX_DIM {
                return Err(VectorError::TypmodTooLarge { ty, max: VECTOR_MAX_DIM }.into());
            }
            Some(n as usize)
        }
        _ => return Err(Error::InvalidTypeModifier("invalid type modifier".into())),
    };
    let pg_name = match dims {
        Some(n) => format!("{ty}({n})"),
        None => ty.to_string(),
    };
    Ok(ColumnType::plain(kind.data_type(dims), pg_name))
}

/// `sparsevec(n)` or `sparsevec`, with pgvector's limits on `n`.
fn sparsevec(modifiers: &[String]) -> Result<ColumnType> {
    use crate::vector::VectorError;
    use crate::vector::sparse::{SPARSEVEC, SPARSEVEC_MAX_DIM, sparse_type};
    let pg_name = match modifiers {
        [] => SPARSEVEC.to_string(),
        [n] => {
            let n: i64 = n.trim().parse().map_err(|_| Error::InvalidTypeModifier("invalid type modifier".into()))?;
            if n < 1 {
                return Err(VectorError::TypmodTooSmall { ty: SPARSEVEC }.into());
            }
            if n as usize > SPARSEVEC_MAX_DIM {
                return Err(VectorError::TypmodTooLarge { ty: SPARSEVEC, max: SPARSEVEC_MAX_DIM }.into());
            }
            format!("{SPARSEVEC}({n})")
        }
        _ => return Err(Error::InvalidTypeModifier("invalid type modifier".into())),
    };
    Ok(ColumnType::plain(sparse_type(), pg_name))
}

/// Type names sqlparser leaves as custom: serials and Postgres's internal aliases.
fn custom(name: &str) -> Result<ColumnType> {
    Ok(match name {
        "serial" | "serial4" => ColumnType { arrow: DataType::Int32, pg_name: "integer".into(), serial: true },
        "bigserial" | "serial8" => ColumnType { arrow: DataType::Int64, pg_name: "bigint".into(), serial: true },
        "smallserial" | "serial2" => ColumnType { arrow: DataType::Int16, pg_name: "smallint".into(), serial: true },
        "timestamptz" => ColumnType::plain(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), "timestamp with time zone"),
        "bpchar" => ColumnType::plain(DataType::Utf8, "character(1)"),
        "oid" => ColumnType::plain(DataType::UInt32, "oid"),
        // Shown as the type's name; see `pg_catalog::casts`.
        "regtype" | "regclass" | "regnamespace" | "regrole" | "regproc" => ColumnType::plain(DataType::Utf8, name),
        _ => return Err(Error::UnknownType(name.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn parse(t: &str) -> Result<ColumnType> {
        let dt = Parser::new(&PostgreSqlDialect {}).try_with_sql(t).unwrap().parse_data_type().unwrap();
        column_type(&dt)
    }

    #[test]
    fn maps_the_common_types() {
        assert_eq!(parse("bigint").unwrap().arrow, DataType::Int64);
        assert_eq!(parse("double precision").unwrap().pg_name, "double precision");
        assert_eq!(parse("numeric(10,2)").unwrap().arrow, DataType::Decimal128(10, 2));
        assert_eq!(parse("varchar(20)").unwrap().pg_name, "character varying(20)");
        assert_eq!(parse("char").unwrap().pg_name, "character(1)");
        assert_eq!(parse("timestamptz").unwrap().arrow, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())));
        assert_eq!(parse("timestamp with time zone").unwrap().pg_name, "timestamp with time zone");
        assert_eq!(parse("int[]").unwrap().pg_name, "integer[]");
        assert!(parse("bigserial").unwrap().serial);
        assert_eq!(parse("vector(3)").unwrap().pg_name, "vector(3)");
        assert_eq!(parse("vector").unwrap().arrow, crate::vector::vector_type(None));
    }

    #[test]
    fn rejects_bad_modifiers_and_unknown_types() {
        assert!(matches!(parse("numeric(50,2)"), Err(Error::InvalidTypeModifier(_))));
        assert!(matches!(parse("numeric(5,6)"), Err(Error::InvalidTypeModifier(_))));
        assert!(matches!(parse("nosuchtype"), Err(Error::UnknownType(_))));
        assert!(matches!(parse("vector(0)"), Err(Error::Vector(_))));
        assert!(matches!(parse("vector(16001)"), Err(Error::Vector(_))));
    }
}
