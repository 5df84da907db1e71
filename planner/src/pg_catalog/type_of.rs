//! `pg_typeof(any)`: the PostgreSQL type of its argument, named as `format_type` names it. The
//! result is a `regtype` (text marked as one), so it prints as the name and compares with
//! `'integer'::regtype`.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, internal_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::types::{PG_TYPE_METADATA, field_metadata};
use crate::vector;

#[derive(Debug, PartialEq, Eq, Hash)]
struct PgTypeOf {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(PgTypeOf { signature: Signature::any(1, Volatility::Immutable) })
}

impl ScalarUDFImpl for PgTypeOf {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        internal_err!("return_field_from_args is used")
    }

    fn return_field_from_args(&self, _: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, false).with_metadata(field_metadata("regtype"))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = type_name(&args.arg_fields[0]);
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}

/// The PostgreSQL name of a value's type: the name its field is marked with (types Arrow
/// cannot tell from others), else the one QuartzDB stores as that Arrow type.
pub fn type_name(field: &Field) -> String {
    if let Some(marked) = field.metadata().get(PG_TYPE_METADATA) {
        return match marked.as_str() {
            "timestamp" => "timestamp without time zone".into(),
            "timestamptz" => "timestamp with time zone".into(),
            other => other.into(),
        };
    }
    data_type_name(field.data_type())
}

fn data_type_name(t: &DataType) -> String {
    if let Some(kind) = vector::Kind::of(t) {
        return kind.name().into();
    }
    if vector::sparse::is_sparse_type(t) {
        return vector::sparse::SPARSEVEC.into();
    }
    if vector::bit::is_bit_type(t) {
        return vector::bit::BIT.into();
    }
    match t {
        DataType::Null => "unknown",
        DataType::Boolean => "boolean",
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint",
        DataType::Int32 | DataType::UInt16 => "integer",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint",
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => "numeric",
        DataType::Float16 | DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "bytea",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone",
        DataType::Timestamp(_, None) => "timestamp without time zone",
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone",
        DataType::Interval(_) | DataType::Duration(_) => "interval",
        DataType::Dictionary(_, v) => return data_type_name(v),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) | DataType::LargeListView(f) => {
            return format!("{}[]", type_name(f));
        }
        DataType::Struct(_) => "record",
        other => return other.to_string(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_postgresql_does() {
        let name = |t: DataType| type_name(&Field::new("x", t, true));
        assert_eq!(name(DataType::Int32), "integer");
        assert_eq!(name(DataType::Float64), "double precision");
        assert_eq!(name(DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some("+00:00".into()))), "timestamp with time zone");
        assert_eq!(name(DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))), "text[]");
        assert_eq!(name(vector::Kind::Vector.data_type(Some(3))), "vector");
        let uuid = Field::new("x", DataType::Utf8, true).with_metadata(field_metadata("uuid"));
        assert_eq!(type_name(&uuid), "uuid");
    }
}
