//! The casts a `sparsevec` needs, as functions the cast rule plans: to `sparsevec(n)` from text,
//! vectors and arrays, and to text.

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::array::{Rows, output};
use super::sparse::{Sparse, build, is_sparse_type, rows_of, sparse_type};

pub const TO_SPARSEVEC: &str = "__quartz_to_sparsevec";
pub const SPARSEVEC_TEXT: &str = "__quartz_sparsevec_text";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    ToSparse,
    Text,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparseFunction {
    name: &'static str,
    op: Op,
    signature: Signature,
}

pub fn all() -> Vec<ScalarUDF> {
    let f = |name, op| ScalarUDF::new_from_impl(SparseFunction { name, op, signature: Signature::user_defined(Volatility::Immutable) });
    vec![f(TO_SPARSEVEC, Op::ToSparse), f(SPARSEVEC_TEXT, Op::Text)]
}

impl ScalarUDFImpl for SparseFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        Ok(args.to_vec())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            Op::ToSparse => sparse_type(),
            Op::Text => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let n = if scalar { 1 } else { args.number_rows };
        let out: ArrayRef = match self.op {
            Op::Text => {
                let rows = rows_of(&args.args[0], n)?;
                std::sync::Arc::new(rows.iter().map(|r| r.as_ref().map(Sparse::format)).collect::<arrow::array::StringArray>())
            }
            Op::ToSparse => {
                let expected = match &args.args[1] {
                    ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Int64)? {
                        ScalarValue::Int64(Some(d)) if d > 0 => Some(d as usize),
                        _ => None,
                    },
                    _ => return exec_err!("{TO_SPARSEVEC} needs a constant dimension"),
                };
                let input = args.args[0].to_array(n)?;
                let t = input.data_type().clone();
                let rows: Vec<Option<Sparse>> = if is_sparse_type(&t) || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null) {
                    let parsed = match &t {
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                            let text = arrow::compute::cast(&input, &DataType::Utf8)?;
                            use arrow::array::AsArray;
                            text.as_string::<i32>().iter().map(|s| s.map(|s| Sparse::parse(s, expected)).transpose()).collect::<Result<Vec<_>, _>>()?
                        }
                        _ => rows_of(&ColumnarValue::Array(input.clone()), n)?,
                    };
                    parsed.into_iter().map(|r| r.map(|r| r.checked(expected)).transpose()).collect::<Result<_, _>>()?
                } else {
                    // Vectors and numeric arrays: through their dense elements.
                    let dense = if super::Kind::of(&t).is_some() { input } else { super::cast::to_vector(&input, None)? };
                    let dense = Rows::new(&ColumnarValue::Array(dense))?;
                    (0..n).map(|i| dense.get(i).map(|v| Sparse::from_dense(v, expected)).transpose()).collect::<Result<_, _>>()?
                };
                build(rows)?
            }
        };
        output(out, scalar)
    }
}
