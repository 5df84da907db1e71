//! Functions over catalog objects that clients call in their catalog queries:
//! `pg_get_userbyid`, `pg_table_is_visible`, `pg_get_expr`, `pg_get_constraintdef`,
//! `pg_get_indexdef`, `pg_get_viewdef`, `to_regclass`, `obj_description`, `has_*_privilege`,
//! `current_schemas`, `quote_ident`, and the functions `::regclass`, `::regnamespace` and
//! `::regrole` casts are planned as (see [`super::casts`]).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, ListBuilder, StringArray, StringBuilder, UInt32Array};
use arrow::datatypes::{DataType, Field, UInt32Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use quartzdb_storage::Catalog;

use crate::catalog_provider::CatalogSource;

use super::relations::{self, IndexRef};
use super::types::{PG_CATALOG_OID, PUBLIC_OID};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    GetUserById,
    TableIsVisible,
    /// `pg_type_is_visible`, `pg_function_is_visible`: every type and function QuartzDB has is
    /// in pg_catalog or public, both always searched.
    AlwaysVisible,
    GetExpr,
    GetConstraintdef,
    GetIndexdef,
    GetViewdef,
    EncodingToChar,
    /// The `pg_get_function_*` of an absent function, and the like: always NULL.
    Description,
    /// `pg_stat_get_numscans(oid)` and other access counters: NULL, as QuartzDB collects no
    /// access statistics (see `statistics`).
    NotCollected,
    /// `obj_description(oid [, catalog])`, `col_description(table, column)`,
    /// `shobj_description(oid, catalog)`: the comment `COMMENT ON` set (see [`super::descriptions`]).
    ObjDescription,
    ColDescription,
    ShobjDescription,
    /// `has_table_privilege` and the like: every role is a superuser until roles and grants exist.
    HasPrivilege,
    CurrentSchemas,
    /// `pg_get_serial_sequence(table, column)`: the sequence a serial or identity column owns.
    SerialSequence,
    QuoteIdent,
    ToRegclass,
    /// `::regclass`, `::regnamespace`, `::regrole` of an OID (the name) or of text (the OID).
    RegName(RegKind),
    RegIn(RegKind),
    RegOid(RegKind),
    /// `pg_table_size`, `pg_relation_size`, `pg_total_relation_size`, `pg_indexes_size` of a
    /// table: bytes of its Lance dataset on disk (all kept versions); NULL for other relations.
    RelationSize(SizePart),
    /// `pg_database_size(name | oid)`: the bytes of its tables.
    DatabaseSize,
    /// `pg_size_pretty(bytes)` with PostgreSQL's units and rounding.
    SizePretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SizePart {
    /// Data and deletion files, without indexes.
    Table,
    Indexes,
    Total,
}

/// The object-name types besides `regtype` (which [`super::functions`] handles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegKind {
    Class,
    Namespace,
    Role,
}

impl RegKind {
    pub const ALL: [RegKind; 3] = [RegKind::Class, RegKind::Namespace, RegKind::Role];

    pub fn type_name(self) -> &'static str {
        match self {
            RegKind::Class => "regclass",
            RegKind::Namespace => "regnamespace",
            RegKind::Role => "regrole",
        }
    }

    fn missing(self, name: &str) -> datafusion::error::DataFusionError {
        match self {
            RegKind::Class => crate::Error::from(quartzdb_storage::Error::UnknownTable(name.to_string())),
            RegKind::Namespace => crate::Error::from(quartzdb_storage::Error::UnknownSchema(name.to_string())),
            RegKind::Role => crate::Error::UndefinedObject(format!("role \"{name}\" does not exist")),
        }
        .into()
    }
}

/// The names the reg-casts are planned as: `__quartz_<type>_name|in|oid`.
pub fn reg_function(type_name: &str, suffix: &str) -> String {
    format!("__quartz_{type_name}_{suffix}")
}

#[derive(Debug)]
pub struct ObjectFunction {
    source: CatalogSource,
    database: String,
    name: String,
    op: Op,
    signature: Signature,
}

impl PartialEq for ObjectFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.database == other.database && Arc::ptr_eq(self.source.scope(), other.source.scope())
    }
}
impl Eq for ObjectFunction {}
impl std::hash::Hash for ObjectFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.database.hash(state);
    }
}

pub fn all(source: &CatalogSource, database: &str) -> Vec<ScalarUDF> {
    let mut ops: Vec<(String, Op)> = [
        ("pg_get_userbyid", Op::GetUserById),
        ("pg_table_is_visible", Op::TableIsVisible),
        ("pg_type_is_visible", Op::AlwaysVisible),
        ("pg_function_is_visible", Op::AlwaysVisible),
        ("pg_collation_is_visible", Op::AlwaysVisible),
        ("pg_get_expr", Op::GetExpr),
        ("pg_get_constraintdef", Op::GetConstraintdef),
        ("pg_get_indexdef", Op::GetIndexdef),
        ("pg_get_viewdef", Op::GetViewdef),
        ("pg_encoding_to_char", Op::EncodingToChar),
        ("obj_description", Op::ObjDescription),
        ("col_description", Op::ColDescription),
        ("shobj_description", Op::ShobjDescription),
        // QuartzDB has no user-defined functions for these to describe (pg_proc is empty).
        ("pg_get_function_result", Op::Description),
        ("pg_get_function_arguments", Op::Description),
        ("pg_get_function_identity_arguments", Op::Description),
        // Nor statistics objects, partitioned tables, triggers or rules (their catalogs are empty).
        ("pg_get_statisticsobjdef_columns", Op::Description),
        ("pg_get_partkeydef", Op::Description),
        ("pg_get_triggerdef", Op::Description),
        ("pg_get_ruledef", Op::Description),
        ("pg_stat_get_numscans", Op::NotCollected),
        ("pg_stat_get_tuples_returned", Op::NotCollected),
        ("pg_stat_get_tuples_fetched", Op::NotCollected),
        ("has_table_privilege", Op::HasPrivilege),
        ("has_schema_privilege", Op::HasPrivilege),
        ("has_database_privilege", Op::HasPrivilege),
        ("has_column_privilege", Op::HasPrivilege),
        ("has_any_column_privilege", Op::HasPrivilege),
        ("has_sequence_privilege", Op::HasPrivilege),
        ("has_function_privilege", Op::HasPrivilege),
        ("has_type_privilege", Op::HasPrivilege),
        // psql 15.20's \l+ asks it (membership in pg_read_all_stats): a superuser has every role.
        ("pg_has_role", Op::HasPrivilege),
        // Ordinary tables are publishable (and there are no publications to list them).
        ("pg_relation_is_publishable", Op::AlwaysVisible),
        ("current_schemas", Op::CurrentSchemas),
        ("quote_ident", Op::QuoteIdent),
        ("pg_get_serial_sequence", Op::SerialSequence),
        ("to_regclass", Op::ToRegclass),
        ("pg_table_size", Op::RelationSize(SizePart::Table)),
        ("pg_relation_size", Op::RelationSize(SizePart::Table)),
        ("pg_total_relation_size", Op::RelationSize(SizePart::Total)),
        ("pg_indexes_size", Op::RelationSize(SizePart::Indexes)),
        ("pg_database_size", Op::DatabaseSize),
        ("pg_size_pretty", Op::SizePretty),
    ]
    .into_iter()
    .map(|(n, op)| (n.to_string(), op))
    .collect();
    for kind in RegKind::ALL {
        ops.push((reg_function(kind.type_name(), "name"), Op::RegName(kind)));
        ops.push((reg_function(kind.type_name(), "in"), Op::RegIn(kind)));
        ops.push((reg_function(kind.type_name(), "oid"), Op::RegOid(kind)));
    }
    ops.into_iter()
        .map(|(name, op)| {
            ScalarUDF::new_from_impl(ObjectFunction {
                source: source.clone(),
                database: database.to_string(),
                name,
                op,
                signature: Signature::user_defined(Volatility::Stable),
            })
        })
        .collect()
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null)
}

fn is_int(t: &DataType) -> bool {
    t.is_integer() || t == &DataType::Null
}

impl ScalarUDFImpl for ObjectFunction {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let n = args.len();
        let arg = |i: usize| args.get(i);
        let ok = match self.op {
            Op::GetUserById | Op::RegName(_) => n == 1 && is_int(&args[0]),
            // `pg_table_is_visible('t'::regclass)`: a regclass is planned as its name.
            Op::TableIsVisible | Op::AlwaysVisible => n == 1 && (is_int(&args[0]) || is_text(&args[0])),
            Op::GetExpr => (2..=3).contains(&n) && is_text(&args[0]),
            Op::GetConstraintdef => (1..=2).contains(&n) && is_int(&args[0]),
            // `pg_get_indexdef('i'::regclass)`: the index named.
            Op::GetIndexdef => (n == 1 || n == 3) && (is_int(&args[0]) || is_text(&args[0])),
            Op::GetViewdef => (1..=2).contains(&n),
            Op::EncodingToChar => n == 1 && is_int(&args[0]),
            Op::Description => (1..=2).contains(&n),
            Op::NotCollected => n == 1 && is_int(&args[0]),
            Op::ObjDescription => (1..=2).contains(&n) && (is_int(&args[0]) || is_text(&args[0])) && arg(1).is_none_or(is_text),
            Op::ColDescription => n == 2 && (is_int(&args[0]) || is_text(&args[0])) && is_int(&args[1]),
            Op::ShobjDescription => n == 2 && is_int(&args[0]) && is_text(&args[1]),
            Op::HasPrivilege => (2..=4).contains(&n),
            Op::CurrentSchemas => n == 1,
            Op::SerialSequence => n == 2 && is_text(&args[0]) && is_text(&args[1]),
            Op::QuoteIdent | Op::ToRegclass | Op::RegIn(_) | Op::RegOid(_) => n == 1 && arg(0).is_some_and(is_text),
            Op::RelationSize(_) => (1..=2).contains(&n) && (is_int(&args[0]) || is_text(&args[0])),
            Op::DatabaseSize => n == 1 && (is_int(&args[0]) || is_text(&args[0])),
            Op::SizePretty => n == 1 && (args[0].is_numeric() || args[0] == DataType::Null),
        };
        if !ok {
            return Err(crate::Error::no_such_function(&self.name, args).into());
        }
        Ok(args
            .iter()
            .map(|t| match t {
                t if is_text(t) => DataType::Utf8,
                t if t.is_integer() => DataType::Int64,
                other => other.clone(),
            })
            .collect())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            Op::TableIsVisible | Op::AlwaysVisible | Op::HasPrivilege => DataType::Boolean,
            Op::RelationSize(_) | Op::DatabaseSize | Op::NotCollected => DataType::Int64,
            Op::ToRegclass | Op::RegOid(_) => DataType::UInt32,
            Op::CurrentSchemas => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(n)).collect::<Result<_>>()?;
        let catalog = self.source.catalog();
        let db = self.database.as_str();
        let names = std::cell::OnceCell::new();
        let names = || names.get_or_init(|| Names::new(&catalog, db));
        let oid_arg = || -> Result<Vec<Option<u32>>> {
            if is_text(arrays[0].data_type()) && arrays[0].data_type() != &DataType::Null {
                let text = arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
                return Ok(text.as_string::<i32>().iter().map(|s| s.and_then(|s| names().oid(RegKind::Class, s))).collect());
            }
            let a = arrow::compute::cast(&arrays[0], &DataType::UInt32)?;
            Ok(a.as_primitive::<UInt32Type>().iter().collect())
        };
        let text_arg = |i: usize| -> Result<Vec<Option<String>>> {
            let a = arrow::compute::cast(&arrays[i], &DataType::Utf8)?;
            Ok(a.as_string::<i32>().iter().map(|s| s.map(str::to_string)).collect())
        };
        let texts = |v: Vec<Option<String>>| Arc::new(StringArray::from(v)) as ArrayRef;
        let out: ArrayRef = match self.op {
            Op::GetUserById => texts(oid_arg()?.into_iter().map(|o| o.map(|o| names().role_name(o))).collect()),
            Op::TableIsVisible => {
                let names = names();
                let visible = |oid: u32| names.classes.iter().find(|c| c.oid == oid).map(|c| names.visible(c));
                Arc::new(oid_arg()?.into_iter().map(|o| o.and_then(visible)).collect::<BooleanArray>())
            }
            Op::AlwaysVisible => Arc::new(oid_arg()?.into_iter().map(|o| o.map(|_| true)).collect::<BooleanArray>()),
            Op::GetExpr => texts(text_arg(0)?),
            Op::GetConstraintdef => {
                let pretty = match arrays.get(1) {
                    Some(p) => arrow::compute::cast(p, &DataType::Boolean)?.as_boolean().iter().collect(),
                    None => vec![Some(false); n],
                };
                let oids = oid_arg()?;
                texts(oids.into_iter().zip(pretty).map(|(o, p)| o.and_then(|o| constraintdef(&catalog, db, o, p.unwrap_or(false)))).collect())
            }
            Op::GetIndexdef => {
                let column = if arrays.len() == 3 { Some(arrow::compute::cast(&arrays[1], &DataType::Int64)?) } else { None };
                let oids = oid_arg()?;
                texts(
                    (0..n)
                        .map(|i| {
                            let col = column.as_ref().and_then(|c| (!c.is_null(i)).then(|| c.as_primitive::<arrow::datatypes::Int64Type>().value(i)));
                            oids[i].and_then(|o| indexdef(&catalog, db, o, col.unwrap_or(0)))
                        })
                        .collect(),
                )
            }
            Op::GetViewdef => {
                let views: Vec<(u32, String, String)> = catalog
                    .database(db)
                    .map(|d| d.schemas.values().flat_map(|s| s.views.iter().map(|(n, v)| (v.oid, n.clone(), v.query.clone()))).collect())
                    .unwrap_or_default();
                let keys = if is_text(arrays[0].data_type()) { text_arg(0)? } else { oid_arg()?.into_iter().map(|o| o.map(|o| o.to_string())).collect() };
                texts(keys.into_iter().map(|k| k.and_then(|k| views.iter().find(|v| v.0.to_string() == k || v.1 == k).map(|v| format!(" {};", v.2)))).collect())
            }
            Op::EncodingToChar => {
                let codes = arrow::compute::cast(&arrays[0], &DataType::Int32)?;
                let codes = codes.as_primitive::<arrow::datatypes::Int32Type>();
                texts(codes.iter().map(|c| c.map(|c| if c == super::global::UTF8_ENCODING { "UTF8".to_string() } else { String::new() })).collect())
            }
            Op::Description => texts(vec![None; n]),
            Op::NotCollected => Arc::new(arrow::array::Int64Array::new_null(n)),
            Op::ObjDescription | Op::ColDescription | Op::ShobjDescription => {
                let all = match self.op {
                    Op::ShobjDescription => super::descriptions::shared_descriptions(&catalog),
                    _ => super::descriptions::descriptions(&catalog, db),
                };
                let oids = oid_arg()?;
                // The second argument: a catalog's name, or for col_description the column number.
                let (classes, columns): (Vec<Option<u32>>, Vec<i32>) = match self.op {
                    Op::ColDescription => {
                        let c = arrow::compute::cast(&arrays[1], &DataType::Int32)?;
                        let c = c.as_primitive::<arrow::datatypes::Int32Type>();
                        ((0..n).map(|_| Some(super::descriptions::PG_CLASS)).collect(), (0..n).map(|i| if c.is_null(i) { -1 } else { c.value(i) }).collect())
                    }
                    _ if arrays.len() == 2 => (text_arg(1)?.iter().map(|s| s.as_deref().map(|s| super::descriptions::catalog_oid(s).unwrap_or(0))).collect(), vec![0; n]),
                    _ => (vec![None; n], vec![0; n]),
                };
                let find = |i: usize| {
                    let oid = oids[i]?;
                    let class = classes[i];
                    all.iter().find(|d| d.objoid == oid && d.objsubid == columns[i] && class.is_none_or(|c| c == d.classoid)).map(|d| d.text.clone())
                };
                texts((0..n).map(find).collect())
            }
            Op::HasPrivilege => Arc::new(BooleanArray::from(vec![true; n])),
            Op::CurrentSchemas => {
                let implicit = arrow::compute::cast(&arrays[0], &DataType::Boolean)?;
                let implicit = implicit.as_boolean();
                let mut b = ListBuilder::new(StringBuilder::new());
                for i in 0..n {
                    if implicit.is_null(i) {
                        b.append_null();
                        continue;
                    }
                    let mut schemas = if implicit.value(i) { vec!["pg_catalog"] } else { vec![] };
                    schemas.push("public");
                    b.append_value(schemas.into_iter().map(Some));
                }
                Arc::new(b.finish())
            }
            Op::SerialSequence => {
                let (tables, columns) = (text_arg(0)?, text_arg(1)?);
                texts(tables.iter().zip(&columns).map(|(t, c)| Some(serial_sequence(&catalog, db, names(), t.as_deref()?, c.as_deref()?))).map(Option::flatten).collect())
            }
            Op::QuoteIdent => texts(text_arg(0)?.into_iter().map(|s| s.map(|s| crate::names::quote_ident(&s))).collect()),
            Op::RelationSize(part) => {
                let storage = self.source.storage();
                let sizes = oid_arg()?.into_iter().map(|o| o.and_then(|o| table_bytes(storage, &catalog, o, part)));
                Arc::new(sizes.collect::<arrow::array::Int64Array>())
            }
            Op::DatabaseSize => {
                let keys = if is_text(arrays[0].data_type()) { text_arg(0)? } else { oid_arg()?.into_iter().map(|o| o.map(|o| o.to_string())).collect() };
                let storage = self.source.storage();
                let size = |key: String| {
                    let (_, d) = catalog.databases.iter().find(|(name, d)| **name == key || d.oid.to_string() == key)?;
                    let tables = d.schemas.values().flat_map(|s| s.tables.values());
                    Some(tables.filter_map(|t| table_bytes(storage, &catalog, t.oid, SizePart::Total)).sum::<i64>())
                };
                Arc::new(keys.into_iter().map(|k| k.and_then(size)).collect::<arrow::array::Int64Array>())
            }
            Op::SizePretty => {
                let bytes = arrow::compute::cast(&arrays[0], &DataType::Int64)?;
                texts(bytes.as_primitive::<arrow::datatypes::Int64Type>().iter().map(|b| b.map(size_pretty)).collect())
            }
            Op::ToRegclass => Arc::new(text_arg(0)?.into_iter().map(|s| s.and_then(|s| names().oid(RegKind::Class, &s))).collect::<UInt32Array>()),
            Op::RegName(kind) => texts(oid_arg()?.into_iter().map(|o| o.map(|o| names().name(kind, o))).collect()),
            Op::RegOid(kind) | Op::RegIn(kind) => {
                let mut oids = Vec::with_capacity(n);
                for s in text_arg(0)? {
                    oids.push(match s {
                        None => None,
                        Some(s) => Some(names().oid(kind, &s).ok_or_else(|| kind.missing(&s))?),
                    });
                }
                if matches!(self.op, Op::RegIn(_)) {
                    texts(oids.into_iter().map(|o| o.map(|o| names().name(kind, o))).collect())
                } else {
                    Arc::new(UInt32Array::from(oids))
                }
            }
        };
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Bytes on disk of a table's Lance dataset, or the part of them `part` names.
fn table_bytes(storage: &quartzdb_storage::Storage, catalog: &Catalog, oid: u32, part: SizePart) -> Option<i64> {
    let meta = catalog.table_dirs().find(|t| t.oid == oid)?;
    let dir = storage.table_path(meta);
    let indexes = dir_bytes(&dir.join("_indices"));
    Some(match part {
        SizePart::Total => dir_bytes(&dir),
        SizePart::Indexes => indexes,
        SizePart::Table => dir_bytes(&dir) - indexes,
    })
}

fn dir_bytes(dir: &std::path::Path) -> i64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len() as i64,
            Err(_) => 0,
        })
        .sum()
}

/// PostgreSQL's `pg_size_pretty`: bytes below 10 kB, then each unit while the value stays
/// below 10240 of it, rounded half away from zero on one extra bit, as PostgreSQL computes it.
fn size_pretty(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    let mut size = bytes / 512;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT * 2 - 1 {
            return format!("{} {unit}", half_rounded(size));
        }
        size /= 1024;
    }
    format!("{} PB", half_rounded(size))
}

/// `schema.sequence` owned by `table.column` (the table name as `::regclass` reads it).
fn serial_sequence(catalog: &Catalog, database: &str, names: &Names, table: &str, column: &str) -> Option<String> {
    let oid = names.oid(RegKind::Class, table)?;
    let db = catalog.database(database).ok()?;
    let (schema, s, table) = db.schemas.iter().find_map(|(n, s)| s.tables.iter().find(|(_, t)| t.oid == oid).map(|(t, _)| (n, s, t)))?;
    let ident = crate::names::quote_ident;
    s.sequences
        .iter()
        .find(|(_, q)| q.owned_by.as_ref().is_some_and(|(t, c)| t == table && c == column))
        .map(|(name, _)| format!("{}.{}", ident(schema), ident(name)))
}

fn constraintdef(catalog: &Catalog, database: &str, oid: u32, pretty: bool) -> Option<String> {
    let db = catalog.database(database).ok()?;
    let tables = || db.schemas.iter().flat_map(|(s, schema)| schema.tables.iter().map(move |(n, t)| (s.as_str(), n.as_str(), t)));
    if let Some(c) = tables().flat_map(|(_, _, t)| &t.constraints).find(|c| c.oid == oid) {
        return Some(relations::constraintdef(c));
    }
    if let Some(c) = tables().flat_map(|(_, _, t)| &t.checks).find(|c| c.oid == oid) {
        return Some(crate::check_constraint::definition(c, pretty));
    }
    let f = tables().flat_map(|(_, _, t)| &t.foreign_keys).find(|f| f.oid == oid)?;
    let parent = tables().find(|(_, _, t)| t.oid == f.ref_table).map(|(s, n, _)| (s, n));
    Some(relations::foreign_keydef(f, parent))
}

/// `pg_get_indexdef(oid, column, pretty)`: the whole definition for column 0, else that
/// column's name; NULL for an OID that is no index, as in PostgreSQL.
fn indexdef(catalog: &Catalog, database: &str, oid: u32, column: i64) -> Option<String> {
    let (schema, table, index) = relations::find_index(catalog, database, oid)?;
    if column > 0 {
        return index.columns().get(column as usize - 1).map(|c| crate::names::quote_ident(c));
    }
    Some(match index.source {
        IndexRef::Key(c) => relations::key_indexdef(schema, table, c),
        IndexRef::Lance(i) => super::indexes::indexdef(schema, table, i),
    })
}

/// Splits `schema.name` (with PostgreSQL's quoting) into its parts, lower-casing unquoted ones.
pub(super) fn split_name(text: &str) -> Option<(Option<String>, String)> {
    let name = quartzdb_sql::parse_object_name(text).ok()?;
    let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident().map(crate::names::ident)).collect();
    match parts.as_slice() {
        [n] => Some((None, n.clone())),
        [s, n] => Some((Some(s.clone()), n.clone())),
        [_, s, n] => Some((Some(s.clone()), n.clone())),
        _ => None,
    }
}

/// The catalog's relations, schemas and roles, gathered once per function call so that a
/// column of OIDs is resolved without walking the catalog for every row.
struct Names {
    classes: Vec<relations::Class>,
    namespaces: Vec<(u32, String)>,
    roles: Vec<(String, u32, bool)>,
}

impl Names {
    fn new(catalog: &Catalog, database: &str) -> Self {
        Self {
            classes: relations::classes(catalog, database),
            namespaces: relations::namespaces(catalog, database),
            roles: super::global::roles(catalog),
        }
    }

    /// The OID a name denotes, as the text input of the reg-type does (a number is the OID itself).
    fn oid(&self, kind: RegKind, text: &str) -> Option<u32> {
        if let Ok(oid) = text.trim().parse::<u32>() {
            return Some(oid);
        }
        match kind {
            RegKind::Role => self.roles.iter().find(|r| r.0 == text.trim().trim_matches('"')).map(|r| r.1),
            RegKind::Namespace => {
                let (_, name) = split_name(text)?;
                self.namespaces.iter().find(|n| n.1 == name).map(|n| n.0)
            }
            RegKind::Class => {
                let (schema, name) = split_name(text)?;
                // pg_catalog is searched first, then public, as PostgreSQL's default search path.
                let search: Vec<u32> = match schema {
                    Some(s) => vec![self.namespaces.iter().find(|n| n.1 == s)?.0],
                    None => vec![PG_CATALOG_OID, PUBLIC_OID],
                };
                search.iter().find_map(|ns| self.classes.iter().find(|c| c.namespace == *ns && c.name == name).map(|c| c.oid))
            }
        }
    }

    /// The name an OID shows as: qualified when its schema is not searched; the number when unknown.
    fn name(&self, kind: RegKind, oid: u32) -> String {
        let ident = crate::names::quote_ident;
        let found = match kind {
            RegKind::Role => self.roles.iter().find(|r| r.1 == oid).map(|r| ident(&r.0)),
            RegKind::Namespace => self.namespaces.iter().find(|n| n.0 == oid).map(|n| ident(&n.1)),
            RegKind::Class => self.classes.iter().find(|c| c.oid == oid).map(|c| {
                if self.visible(c) {
                    ident(&c.name)
                } else {
                    let schema = self.namespaces.iter().find(|n| n.0 == c.namespace).map(|n| n.1.as_str()).unwrap_or_default();
                    format!("{}.{}", ident(schema), ident(&c.name))
                }
            }),
        };
        // PostgreSQL shows OID 0 of a reg-type as `-`.
        found.unwrap_or_else(|| if oid == 0 { "-".to_string() } else { oid.to_string() })
    }

    fn visible(&self, c: &relations::Class) -> bool {
        c.namespace == PUBLIC_OID || c.namespace == PG_CATALOG_OID
    }

    fn role_name(&self, oid: u32) -> String {
        self.roles.iter().find(|r| r.1 == oid).map_or_else(|| format!("unknown (OID={oid})"), |r| r.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn sizes_print_as_postgresql_prints_them() {
        // Each pair checked against PostgreSQL 15's pg_size_pretty(bigint).
        let cases = [
            (0, "0 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (10_485_247, "10239 kB"),
            (10_485_760, "10 MB"),
            (1_000_000_000, "954 MB"),
            (-20480, "-20 kB"),
            (1 << 50, "1024 TB"),
            (1 << 55, "32 PB"),
        ];
        for (bytes, text) in cases {
            assert_eq!(size_pretty(bytes), text, "{bytes}");
        }
    }
}
