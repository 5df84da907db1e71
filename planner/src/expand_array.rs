//! `information_schema._pg_expandarray(a)`: each element of an array with its position, as
//! the records `(x, n)`. JDBC's `getPrimaryKeys` and `getIndexInfo` join `pg_attribute` with
//! the expanded `pg_index.indkey`. The parser rewrite plans it as `unnest` of this function's
//! list of `(x, n)` structs (quartzdb_sql::compat).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, ListArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::error::Error;

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExpandArray {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ExpandArray { signature: Signature::any(1, Volatility::Immutable) })
}

fn pair_fields(element: &DataType) -> Fields {
    Fields::from(vec![Field::new("x", element.clone(), true), Field::new("n", DataType::Int32, false)])
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        quartzdb_sql::EXPAND_ARRAY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            DataType::List(element) => Ok(DataType::List(Arc::new(Field::new("item", DataType::Struct(pair_fields(element.data_type())), true)))),
            other => Err(Error::no_such_function("information_schema._pg_expandarray", std::slice::from_ref(other)).into()),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let array = args.args[0].to_array(args.number_rows)?;
        let list = array.as_list::<i32>();
        let offsets = list.offsets();
        // Each element's position within its own array (elements outside every row's range,
        // which a sliced list may carry, get 0 and are never read).
        let mut positions = vec![0i32; list.values().len()];
        for row in 0..list.len() {
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            for (i, p) in positions[start..end].iter_mut().enumerate() {
                *p = i as i32 + 1;
            }
        }
        let fields = pair_fields(list.values().data_type());
        let pairs = StructArray::try_new(fields.clone(), vec![list.values().clone(), Arc::new(Int32Array::from(positions))], None)?;
        let item = Arc::new(Field::new("item", DataType::Struct(fields), true));
        let out: ArrayRef = Arc::new(ListArray::try_new(item, offsets.clone(), Arc::new(pairs), list.nulls().cloned())?);
        crate::functions::output(out, scalar)
    }
}
