//! `to_regtype`, `format_type`, and the functions `::regtype` and `::regproc` casts are planned
//! as.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, UInt32Array};
use arrow::datatypes::{DataType, UInt32Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::types::{format_type, resolve, sql_name, types};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    /// `to_regtype(text)`: the OID, or NULL for an unknown name.
    ToRegtype,
    /// `format_type(oid, typmod)`.
    FormatType,
    /// `oid::regtype`: the type's name (or the number, for an unknown OID, as PostgreSQL prints).
    RegtypeName,
    /// `'name'::regtype`: the canonical name; an unknown name is an error.
    RegtypeIn,
    /// `'name'::regtype` compared with or cast to an OID.
    RegtypeOid,
    /// `'pg_catalog.array_in'::regproc`: the function's name as `regproc` prints it (without
    /// `pg_catalog`). `pg_proc` is empty, so names are not checked, and only schema
    /// `pg_catalog` is known.
    RegprocIn,
    /// `oid::regproc`: `-` for 0; other numbers print as themselves (no function has an OID).
    RegprocName,
    /// `'name'::regproc` compared with or cast to an OID: no function has one (42883).
    RegprocOid,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TypeFunction {
    name: &'static str,
    op: Op,
    signature: Signature,
}

// The names `::regtype` casts are planned as (see `objects::reg_function`).
const REGTYPE_NAME: &str = "__quartz_regtype_name";
const REGTYPE_IN: &str = "__quartz_regtype_in";
const REGTYPE_OID: &str = "__quartz_regtype_oid";
const REGPROC_NAME: &str = "__quartz_regproc_name";
const REGPROC_IN: &str = "__quartz_regproc_in";
const REGPROC_OID: &str = "__quartz_regproc_oid";

pub fn all() -> Vec<ScalarUDF> {
    let f = |name, op| ScalarUDF::new_from_impl(TypeFunction { name, op, signature: Signature::user_defined(Volatility::Stable) });
    vec![
        f("to_regtype", Op::ToRegtype),
        f("format_type", Op::FormatType),
        f(REGTYPE_NAME, Op::RegtypeName),
        f(REGTYPE_IN, Op::RegtypeIn),
        f(REGTYPE_OID, Op::RegtypeOid),
        f(REGPROC_NAME, Op::RegprocName),
        f(REGPROC_IN, Op::RegprocIn),
        f(REGPROC_OID, Op::RegprocOid),
        super::type_of::udf(),
    ]
}

/// The name a function's qualified name `text` stands for, if it can name one: `name`,
/// `pg_catalog.name`, with quoted parts kept as written and unquoted ones folded to lower case.
fn function_name(text: &str) -> Option<String> {
    match super::objects::split_name(text)? {
        (None, name) => Some(name),
        (Some(schema), name) if schema == "pg_catalog" => Some(name),
        _ => None,
    }
}

fn unknown_type(name: &str) -> datafusion::error::DataFusionError {
    crate::Error::UndefinedObject(format!("type \"{name}\" does not exist")).into()
}

impl ScalarUDFImpl for TypeFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let int = |t: &DataType| t.is_integer() || t == &DataType::Null;
        let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null);
        let ok = match self.op {
            Op::ToRegtype | Op::RegtypeIn | Op::RegtypeOid | Op::RegprocIn | Op::RegprocOid => args.len() == 1 && text(&args[0]),
            Op::RegtypeName | Op::RegprocName => args.len() == 1 && int(&args[0]),
            Op::FormatType => args.len() == 2 && int(&args[0]) && (int(&args[1]) || text(&args[1])),
        };
        if !ok {
            return Err(crate::Error::no_such_function(self.name, args).into());
        }
        Ok(args.iter().map(|t| if text(t) { DataType::Utf8 } else { DataType::Int64 }).collect())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            Op::ToRegtype | Op::RegtypeOid | Op::RegprocOid => DataType::UInt32,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(n)).collect::<Result<_>>()?;
        let t = types();
        let out: ArrayRef = match self.op {
            Op::ToRegtype | Op::RegtypeOid | Op::RegtypeIn => {
                let names = arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
                let names = names.as_string::<i32>();
                let mut oids = Vec::with_capacity(n);
                for name in names.iter() {
                    oids.push(match name {
                        None => None,
                        Some(name) => match (resolve(t, name), self.op) {
                            (Some(oid), _) => Some(oid),
                            (None, Op::ToRegtype) => None,
                            (None, _) => return Err(unknown_type(name)),
                        },
                    });
                }
                if self.op == Op::RegtypeIn {
                    let names: StringArray = oids.iter().map(|o| o.and_then(|o| format_type(t, o, None))).collect();
                    Arc::new(names)
                } else {
                    Arc::new(UInt32Array::from(oids))
                }
            }
            Op::RegprocIn | Op::RegprocOid => {
                let names = arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
                let mut out = Vec::with_capacity(n);
                for name in names.as_string::<i32>().iter() {
                    out.push(match name {
                        None => None,
                        Some(name) => match function_name(name) {
                            Some(f) if self.op == Op::RegprocIn => Some(f),
                            _ => return Err(crate::Error::UndefinedFunction(format!("function \"{name}\" does not exist")).into()),
                        },
                    });
                }
                Arc::new(StringArray::from(out))
            }
            Op::RegprocName => {
                let oids = arrow::compute::cast(&arrays[0], &DataType::UInt32)?;
                let names: StringArray = oids.as_primitive::<UInt32Type>().iter().map(|o| o.map(|o| if o == 0 { "-".to_string() } else { o.to_string() })).collect();
                Arc::new(names)
            }
            Op::RegtypeName | Op::FormatType => {
                let oids = arrow::compute::cast(&arrays[0], &DataType::UInt32)?;
                let oids = oids.as_primitive::<UInt32Type>();
                let mods = match arrays.get(1) {
                    Some(m) => Some(arrow::compute::cast(m, &DataType::Int32)?),
                    None => None,
                };
                let names: StringArray = (0..n)
                    .map(|i| {
                        if oids.is_null(i) {
                            return None;
                        }
                        let oid = oids.value(i);
                        let typmod = mods.as_ref().and_then(|m| (!m.is_null(i)).then(|| m.as_primitive::<arrow::datatypes::Int32Type>().value(i)));
                        match t.iter().find(|r| r.oid == oid) {
                            Some(row) if self.op == Op::RegtypeName => Some(sql_name(&row.name)),
                            Some(_) => format_type(t, oid, typmod),
                            None if self.op == Op::RegtypeName => Some(oid.to_string()),
                            None => Some("???".to_string()),
                        }
                    })
                    .collect();
                Arc::new(names)
            }
        };
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}
