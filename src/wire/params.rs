//! Bind parameters: the values a client sends (text or binary) as DataFusion scalars of the types
//! the statement needs.

use arrow::datatypes::{DataType, TimeUnit};
use bytes::Bytes;
use datafusion::common::ScalarValue;
use pgwire::api::Type;
use pgwire::api::results::FieldFormat;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use postgres_types::FromSql;

use quartzdb_planner::vector;

use crate::sqlstate::SqlState;

/// The PostgreSQL type reported for a parameter of Arrow type `t` (unknown ones are text).
pub fn pg_type(t: Option<&DataType>) -> Type {
    match t {
        None | Some(DataType::Null) => Type::TEXT,
        // Catalog OID columns (pg_type.oid): drivers bind `oid = $1` with an OID.
        Some(DataType::UInt32) => Type::OID,
        Some(t) if vector::bit::is_bit_type(t) => Type::BIT,
        Some(t) if vector::sparse::is_sparse_type(t) => super::encode::sparsevec_pg_type(),
        Some(t) if vector::is_vector_type(t) => super::encode::vector_pg_type(vector::Kind::of(t).expect("vector type")),
        Some(t) => arrow_pg::datatypes::into_pg_type(&super::encode::wire_type(t)).unwrap_or(Type::TEXT),
    }
}

/// The Arrow type a value of PostgreSQL type `t` is read as, when the statement does not say.
pub fn arrow_type(t: &Type) -> Option<DataType> {
    Some(match *t {
        Type::BOOL => DataType::Boolean,
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 => DataType::Int64,
        Type::OID => DataType::UInt32,
        Type::FLOAT4 => DataType::Float32,
        Type::FLOAT8 => DataType::Float64,
        Type::NUMERIC => DataType::Decimal128(38, 10),
        Type::BYTEA => DataType::Binary,
        Type::DATE => DataType::Date32,
        Type::TIMESTAMP => DataType::Timestamp(TimeUnit::Microsecond, None),
        Type::TIMESTAMPTZ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UUID | Type::JSON | Type::JSONB => DataType::Utf8,
        Type::BIT | Type::VARBIT => vector::bit::bit_type(),
        _ if t.oid() == vector::SPARSEVEC_OID => vector::sparse::sparse_type(),
        _ if vector::Kind::from_oid(t.oid()).is_some() => vector::Kind::from_oid(t.oid()).expect("checked").data_type(None),
        _ => return None,
    })
}

fn invalid(code: SqlState, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.code().into(), message)))
}

/// Decodes one parameter. Text values stay text, to be cast to the target type like a literal;
/// binary values are read by their declared type.
pub fn decode(value: Option<&Bytes>, format: FieldFormat, ty: &Type) -> PgWireResult<ScalarValue> {
    let Some(bytes) = value else {
        return Ok(ScalarValue::Null);
    };
    if format == FieldFormat::Text {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| invalid(SqlState::InvalidTextRepresentation, "invalid byte sequence for encoding \"UTF8\"".into()))?;
        return Ok(ScalarValue::Utf8(Some(text.to_string())));
    }
    let bad = |e: Box<dyn std::error::Error + Sync + Send>| {
        invalid(SqlState::InvalidTextRepresentation, format!("incorrect binary data format in bind parameter: {e}"))
    };
    Ok(match *ty {
        Type::BOOL => ScalarValue::Boolean(Some(bool::from_sql(ty, bytes).map_err(bad)?)),
        Type::INT2 => ScalarValue::Int16(Some(i16::from_sql(ty, bytes).map_err(bad)?)),
        Type::INT4 => ScalarValue::Int32(Some(i32::from_sql(ty, bytes).map_err(bad)?)),
        Type::INT8 => ScalarValue::Int64(Some(i64::from_sql(ty, bytes).map_err(bad)?)),
        Type::OID => ScalarValue::UInt32(Some(u32::from_sql(ty, bytes).map_err(bad)?)),
        Type::FLOAT4 => ScalarValue::Float32(Some(f32::from_sql(ty, bytes).map_err(bad)?)),
        Type::FLOAT8 => ScalarValue::Float64(Some(f64::from_sql(ty, bytes).map_err(bad)?)),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            ScalarValue::Utf8(Some(String::from_sql(&Type::TEXT, bytes).map_err(bad)?))
        }
        Type::BYTEA => ScalarValue::Binary(Some(bytes.to_vec())),
        Type::UUID => ScalarValue::Utf8(Some(uuid::Uuid::from_sql(ty, bytes).map_err(bad)?.to_string())),
        Type::JSON | Type::JSONB => {
            ScalarValue::Utf8(Some(serde_json::Value::from_sql(ty, bytes).map_err(bad)?.to_string()))
        }
        Type::NUMERIC => ScalarValue::Utf8(Some(rust_decimal::Decimal::from_sql(ty, bytes).map_err(bad)?.to_string())),
        Type::DATE => {
            let d = chrono::NaiveDate::from_sql(ty, bytes).map_err(bad)?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
            ScalarValue::Date32(Some((d - epoch).num_days() as i32))
        }
        Type::TIMESTAMP => {
            let t = chrono::NaiveDateTime::from_sql(ty, bytes).map_err(bad)?;
            ScalarValue::TimestampMicrosecond(Some(t.and_utc().timestamp_micros()), None)
        }
        Type::TIMESTAMPTZ => {
            let t = chrono::DateTime::<chrono::Utc>::from_sql(ty, bytes).map_err(bad)?;
            ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), Some("UTC".into()))
        }
        Type::BIT | Type::VARBIT => {
            let bits = vector::bit::Bits::recv(bytes)
                .ok_or_else(|| invalid(SqlState::InvalidTextRepresentation, "incorrect binary data format in bind parameter".into()))?;
            let array = vector::bit::build([Some(bits)]).map_err(|e| invalid(SqlState::InternalError, e.to_string()))?;
            ScalarValue::try_from_array(&array, 0).map_err(|e| invalid(SqlState::InternalError, e.to_string()))?
        }
        _ if ty.oid() == vector::SPARSEVEC_OID => {
            let s = vector::sparse::Sparse::recv(bytes).map_err(|e| invalid(crate::sqlstate::vector(&e), e.to_string()))?;
            let array = vector::sparse::build([Some(s)]).map_err(|e| invalid(SqlState::InternalError, e.to_string()))?;
            ScalarValue::try_from_array(&array, 0).map_err(|e| invalid(SqlState::InternalError, e.to_string()))?
        }
        _ if vector::Kind::from_oid(ty.oid()).is_some() => {
            let kind = vector::Kind::from_oid(ty.oid()).expect("checked");
            let v = vector::binary::recv(kind, bytes).map_err(|e| {
                let code = match &e {
                    vector::binary::RecvError::Vector(v) => crate::sqlstate::vector(v),
                    vector::binary::RecvError::Unused(_) => SqlState::InvalidParameterValue,
                    _ => SqlState::ProtocolViolation,
                };
                invalid(code, e.to_string())
            })?;
            let mut builder = vector::array::Builder::new(kind, None, 1);
            builder.push(&v);
            let array = builder.finish().map_err(|e| invalid(SqlState::InternalError, e.to_string()))?;
            ScalarValue::try_from_array(&array, 0).map_err(|e| invalid(SqlState::InternalError, e.to_string()))?
        }
        // Microseconds since midnight.
        Type::TIME => match i64::from_sql(&Type::INT8, bytes).map_err(bad)? {
            micros @ 0..=86_400_000_000 => ScalarValue::Time64Microsecond(Some(micros)),
            _ => return Err(invalid(SqlState::DatetimeFieldOverflow, "time out of range".into())),
        },
        // Microseconds, then days, then months.
        Type::INTERVAL => {
            let [m0, m1, m2, m3, m4, m5, m6, m7, d0, d1, d2, d3, n0, n1, n2, n3] = <[u8; 16]>::try_from(bytes.as_ref()).map_err(|_| bad("interval is 16 bytes".into()))?;
            let micros = i64::from_be_bytes([m0, m1, m2, m3, m4, m5, m6, m7]);
            let nanos = micros.checked_mul(1000).ok_or_else(|| invalid(SqlState::DatetimeFieldOverflow, "interval out of range".into()))?;
            ScalarValue::new_interval_mdn(i32::from_be_bytes([n0, n1, n2, n3]), i32::from_be_bytes([d0, d1, d2, d3]), nanos)
        }
        _ => match ty.kind() {
            postgres_types::Kind::Array(element) => ScalarValue::Utf8(Some(array_text(element, bytes)?)),
            _ => return Err(unsupported(ty)),
        },
    })
}

fn unsupported(ty: &Type) -> PgWireError {
    invalid(SqlState::FeatureNotSupported, format!("binary format for parameters of type {} is not supported; send it as text", ty.name()))
}

/// A one-dimensional array in PostgreSQL's binary form (dimensions, NULL flag, element type,
/// then each element's length and value) as its text form (`{1,"a b",NULL}`), which the
/// target column's type reads as it reads a text literal.
fn array_text(element: &Type, bytes: &[u8]) -> PgWireResult<String> {
    let bad = || invalid(SqlState::InvalidBinaryRepresentation, "incorrect binary data format in array".into());
    let mut at = 0;
    let int = |at: &mut usize| -> PgWireResult<i32> {
        let v = bytes.get(*at..*at + 4).ok_or_else(bad)?;
        *at += 4;
        Ok(i32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    };
    let dimensions = int(&mut at)?;
    let _has_nulls = int(&mut at)?;
    let _element_oid = int(&mut at)?;
    let length = match dimensions {
        0 => 0,
        1 => {
            let n = int(&mut at)?;
            let _lower_bound = int(&mut at)?;
            usize::try_from(n).map_err(|_| bad())?
        }
        d if d < 0 => return Err(bad()),
        _ => return Err(invalid(SqlState::FeatureNotSupported, "arrays of more than one dimension are not supported".into())),
    };
    let textual = matches!(*element, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UUID | Type::NUMERIC | Type::DATE);
    if !textual && !matches!(*element, Type::BOOL | Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT4 | Type::FLOAT8) {
        return Err(unsupported(&Type::new(format!("{}[]", element.name()), 0, postgres_types::Kind::Simple, String::new())));
    }
    let mut out = String::from("{");
    for i in 0..length {
        if i > 0 {
            out.push(',');
        }
        let len = int(&mut at)?;
        if len == -1 {
            out.push_str("NULL");
            continue;
        }
        let value = bytes.get(at..at + usize::try_from(len).map_err(|_| bad())?).ok_or_else(bad)?;
        at += value.len();
        let text = match decode(Some(&Bytes::copy_from_slice(value)), FieldFormat::Binary, element)? {
            ScalarValue::Date32(Some(days)) => (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date") + chrono::TimeDelta::days(days as i64)).to_string(),
            ScalarValue::Boolean(Some(b)) => if b { "t" } else { "f" }.to_string(),
            other => other.to_string(),
        };
        // Quoted, with quotes and backslashes escaped: the element is always one value.
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    if at != bytes.len() {
        return Err(bad());
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_binary_integers_and_text() {
        let v = decode(Some(&Bytes::from_static(&[0, 0, 0, 7])), FieldFormat::Binary, &Type::INT4).unwrap();
        assert_eq!(v, ScalarValue::Int32(Some(7)));
        let v = decode(Some(&Bytes::from_static(b"42")), FieldFormat::Text, &Type::INT4).unwrap();
        assert_eq!(v, ScalarValue::Utf8(Some("42".into())));
        assert_eq!(decode(None, FieldFormat::Binary, &Type::INT4).unwrap(), ScalarValue::Null);
    }

    #[test]
    fn decodes_binary_time_interval_and_arrays() {
        let time = decode(Some(&Bytes::copy_from_slice(&3_723_000_001i64.to_be_bytes())), FieldFormat::Binary, &Type::TIME).unwrap();
        assert_eq!(time, ScalarValue::Time64Microsecond(Some(3_723_000_001)));
        let late = decode(Some(&Bytes::copy_from_slice(&86_400_000_001i64.to_be_bytes())), FieldFormat::Binary, &Type::TIME).unwrap_err();
        assert!(late.to_string().contains("time out of range"), "{late}");
        let mut interval = 90_000_000i64.to_be_bytes().to_vec();
        interval.extend_from_slice(&3i32.to_be_bytes());
        interval.extend_from_slice(&(-14i32).to_be_bytes());
        let v = decode(Some(&Bytes::from(interval)), FieldFormat::Binary, &Type::INTERVAL).unwrap();
        assert_eq!(v, ScalarValue::new_interval_mdn(-14, 3, 90_000_000_000));
        // int4[] {7,NULL,-1}, as PostgreSQL 15's array_send writes it.
        let mut array = Vec::new();
        for v in [1i32, 1, 23, 3, 1, 4, 7, -1, 4, -1] {
            array.extend_from_slice(&v.to_be_bytes());
        }
        let v = decode(Some(&Bytes::from(array)), FieldFormat::Binary, &Type::INT4_ARRAY).unwrap();
        assert_eq!(v, ScalarValue::Utf8(Some("{\"7\",NULL,\"-1\"}".into())));
        let mut text = Vec::new();
        for v in [1i32, 0, 25, 1, 1, 3] {
            text.extend_from_slice(&v.to_be_bytes());
        }
        text.extend_from_slice(b"a\"\\");
        let v = decode(Some(&Bytes::from(text.clone())), FieldFormat::Binary, &Type::TEXT_ARRAY).unwrap();
        assert_eq!(v, ScalarValue::Utf8(Some("{\"a\\\"\\\\\"}".into())));
        text.push(0);
        assert!(decode(Some(&Bytes::from(text)), FieldFormat::Binary, &Type::TEXT_ARRAY).is_err(), "trailing bytes");
        let empty = [0i32, 0, 23].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        assert_eq!(decode(Some(&Bytes::from(empty)), FieldFormat::Binary, &Type::INT4_ARRAY).unwrap(), ScalarValue::Utf8(Some("{}".into())));
    }

    #[test]
    fn bad_binary_is_an_error_not_a_panic() {
        let err = decode(Some(&Bytes::from_static(&[1, 2])), FieldFormat::Binary, &Type::INT8).unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
    }
}
