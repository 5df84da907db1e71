//! `parse_ident(text)`: a qualified identifier split into its parts, unquoted parts folded to
//! lower case (`'tools."Items"'` → `{tools,Items}`); Grafana's query builder reads a table's
//! schema and name with it.

use std::sync::Arc;

use arrow::array::{AsArray, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseIdent {
    signature: Signature,
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ParseIdent { signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable) })
}

/// The parts of `text`, or 22023 as PostgreSQL reports a string that is not an identifier.
fn parts(text: &str) -> Result<Vec<String>> {
    let invalid = || crate::Error::InvalidParameter(format!("string is not a valid identifier: \"{text}\"")).into();
    let name = quartzdb_sql::parse_object_name(text).map_err(|_| invalid())?;
    name.0.iter().map(|p| p.as_ident().map(crate::names::ident).ok_or_else(invalid)).collect()
}

impl ScalarUDFImpl for ParseIdent {
    fn name(&self) -> &str {
        "parse_ident"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (input, scalar) = crate::functions::single_input(&args)?;
        let input = arrow::compute::cast(&input, &DataType::Utf8)?;
        let mut out = ListBuilder::new(StringBuilder::new());
        for text in input.as_string::<i32>().iter() {
            match text {
                Some(text) => out.append_value(parts(text)?.into_iter().map(Some)),
                None => out.append_null(),
            }
        }
        crate::functions::output(Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn splits_and_folds_as_postgresql_does() {
        assert_eq!(parts("items").unwrap(), vec!["items"]);
        assert_eq!(parts("Tools.\"Items\"").unwrap(), vec!["tools", "Items"]);
        assert!(parts("a b").is_err());
    }
}
