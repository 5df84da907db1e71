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
        _ => {
            return Err(invalid(
                SqlState::FeatureNotSupported,
                format!("binary format for parameters of type {} is not supported; send it as text", ty.name()),
            ));
        }
    })
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
    fn bad_binary_is_an_error_not_a_panic() {
        let err = decode(Some(&Bytes::from_static(&[1, 2])), FieldFormat::Binary, &Type::INT8).unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
    }
}
