//! The SQL standard's `information_schema` as PostgreSQL fills it: `schemata`, `tables`,
//! `columns`, `views`, `table_constraints`, `key_column_usage`, `constraint_column_usage`,
//! `referential_constraints`, `sequences`, and (without rows, since QuartzDB has none of their
//! objects) `check_constraints`, `routines`, `parameters`, `triggers`.
//!
//! Built from QuartzDB's catalog at each statement, in PostgreSQL's terms: `data_type` is
//! `integer`, `character varying`, `ARRAY`, `USER-DEFINED` (pgvector's types), with `udt_name`
//! the `pg_type` name, lengths, precisions and scales as PostgreSQL reports them. This replaces
//! DataFusion's own information_schema, which shows Arrow types (Grafana, pgcli and BI tools
//! read `data_type`). The columns are PostgreSQL's, typed as plain text and integers (its
//! `sql_identifier`, `character_data`, `yes_or_no` and `cardinal_number` domains).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use async_trait::async_trait;
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::error::Result;
use quartzdb_storage::{Catalog, ConstraintKind};

use crate::catalog_provider::CatalogSource;

use super::types::{resolve, types, PUBLIC_OID};

pub const SCHEMA: &str = "information_schema";

const TABLES: [&str; 13] = [
    "schemata",
    "tables",
    "columns",
    "views",
    "table_constraints",
    "key_column_usage",
    "constraint_column_usage",
    "sequences",
    "referential_constraints",
    "check_constraints",
    "routines",
    "parameters",
    "triggers",
];

#[derive(Debug)]
pub struct InformationSchema {
    source: CatalogSource,
    database: String,
}

impl InformationSchema {
    pub fn new(source: CatalogSource, database: String) -> Self {
        Self { source, database }
    }

    pub fn has(name: &str) -> bool {
        TABLES.contains(&name)
    }

    async fn build(&self, name: &str) -> Result<Option<RecordBatch>> {
        let catalog = self.source.catalog();
        let db = self.database.as_str();
        Ok(Some(match name {
            "schemata" => schemata(&catalog, db)?,
            "tables" => tables(&catalog, db)?,
            "columns" => columns(&self.source, &catalog, db).await?,
            "views" => views(&catalog, db)?,
            "table_constraints" => table_constraints(&catalog, db)?,
            "key_column_usage" => key_columns(&catalog, db, true)?,
            "constraint_column_usage" => key_columns(&catalog, db, false)?,
            "sequences" => sequences(&catalog, db)?,
            "referential_constraints" => referential_constraints(&catalog, db)?,
            "check_constraints" => check_constraints(&catalog, db)?,
            "routines" => empty(&[
                "specific_catalog",
                "specific_schema",
                "specific_name",
                "routine_catalog",
                "routine_schema",
                "routine_name",
                "routine_type",
                "data_type",
                "type_udt_name",
                "routine_body",
                "routine_definition",
                "external_language",
            ])?,
            "parameters" => empty(&["specific_catalog", "specific_schema", "specific_name", "ordinal_position", "parameter_mode", "parameter_name", "data_type", "udt_name"])?,
            "triggers" => empty(&[
                "trigger_catalog",
                "trigger_schema",
                "trigger_name",
                "event_manipulation",
                "event_object_catalog",
                "event_object_schema",
                "event_object_table",
                "action_statement",
                "action_orientation",
                "action_timing",
            ])?,
            _ => return Ok(None),
        }))
    }
}

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|t| t.to_string()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(batch) = self.build(name).await? else { return Ok(None) };
        Ok(Some(Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        Self::has(name)
    }
}

/// Every table of the database with its schema's and its own name.
fn schema_tables<'a>(catalog: &'a Catalog, db: &str) -> Vec<(&'a String, &'a String, &'a quartzdb_storage::TableMeta)> {
    let Ok(d) = catalog.database(db) else { return Vec::new() };
    d.schemas.iter().flat_map(|(s, schema)| schema.tables.iter().map(move |(n, t)| (s, n, t))).collect()
}

/// One table of text (`None` is NULL) and integer columns, in the order given.
enum Value {
    Text(Option<String>),
    Int(Option<i32>),
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(Some(s.into()))
}

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

const NULL: Value = Value::Text(None);

fn table(names: &[&str], rows: Vec<Vec<Value>>) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(names.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let ints = INT_COLUMNS.contains(name);
        let column: ArrayRef = if ints {
            Arc::new(rows.iter().map(|r| match &r[i] { Value::Int(v) => *v, Value::Text(_) => None }).collect::<Int32Array>())
        } else {
            Arc::new(rows.iter().map(|r| match &r[i] { Value::Text(v) => v.clone(), Value::Int(v) => v.map(|v| v.to_string()) }).collect::<StringArray>())
        };
        fields.push(Field::new(*name, column.data_type().clone(), true));
        columns.push(column);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// The `cardinal_number` columns (integers; every other column is text), so a table's types do
/// not depend on its rows.
const INT_COLUMNS: [&str; 10] = [
    "ordinal_position",
    "position_in_unique_constraint",
    "character_maximum_length",
    "character_octet_length",
    "numeric_precision",
    "numeric_precision_radix",
    "numeric_scale",
    "datetime_precision",
    "interval_precision",
    "maximum_cardinality",
];

fn empty(names: &[&str]) -> Result<RecordBatch> {
    table(names, Vec::new())
}

fn schemata(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let names = super::relations::namespaces(catalog, db);
    let rows = names.into_iter().map(|(_, n)| vec![text(db), text(n), text(owner(catalog)), NULL, NULL, NULL, NULL]).collect();
    table(&["catalog_name", "schema_name", "schema_owner", "default_character_set_catalog", "default_character_set_schema", "default_character_set_name", "sql_path"], rows)
}

/// The role that owns every object (the bootstrap superuser).
fn owner(catalog: &Catalog) -> String {
    super::global::roles(catalog).into_iter().find(|r| r.1 == super::SUPERUSER_OID).map_or_else(|| "quartz".to_string(), |r| r.0)
}

/// Every relation PostgreSQL's `tables` lists: the database's tables and views, and the
/// system catalogs.
fn tables(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    let mut add = |schema: &str, name: &str, view: bool| {
        rows.push(vec![
            text(db),
            text(schema),
            text(name),
            text(if view { "VIEW" } else { "BASE TABLE" }),
            NULL,
            NULL,
            NULL,
            NULL,
            NULL,
            yes_no(!view),
            text("NO"),
            NULL,
        ]);
    };
    if let Ok(d) = catalog.database(db) {
        for (sname, s) in &d.schemas {
            for t in s.tables.keys() {
                add(sname, t, false);
            }
            for v in s.views.keys() {
                add(sname, v, true);
            }
        }
    }
    for (name, _, kind) in super::TABLES {
        add(super::SCHEMA, name, kind == 'v');
    }
    for name in TABLES {
        add(SCHEMA, name, true);
    }
    table(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "table_type",
            "self_referencing_column_name",
            "reference_generation",
            "user_defined_type_catalog",
            "user_defined_type_schema",
            "user_defined_type_name",
            "is_insertable_into",
            "is_typed",
            "commit_action",
        ],
        rows,
    )
}

/// What `columns` says of a type: its `data_type`, `udt_name`, length, numeric precision,
/// radix and scale, and datetime precision, as PostgreSQL 15 reports them.
#[derive(Debug, PartialEq)]
struct TypeFacts {
    data_type: String,
    udt_name: String,
    udt_schema: &'static str,
    max_length: Option<i32>,
    precision: Option<i32>,
    radix: Option<i32>,
    scale: Option<i32>,
    datetime_precision: Option<i32>,
}

fn type_facts(declared: &str) -> TypeFacts {
    let t = types();
    let oid = resolve(t, declared).unwrap_or(0);
    let row = t.iter().find(|r| r.oid == oid);
    let udt_name = row.map_or_else(|| declared.to_string(), |r| r.name.clone());
    let user_defined = row.is_some_and(|r| r.namespace == PUBLIC_OID);
    let modifier = || declared.split_once('(').map(|(_, m)| m.trim_end_matches(')').trim_end_matches("[]").trim_end_matches(')').to_string());
    let array = declared.trim_end().ends_with("[]");
    let mut facts = TypeFacts {
        data_type: if array {
            "ARRAY".into()
        } else if user_defined {
            "USER-DEFINED".into()
        } else {
            row.map_or_else(|| declared.to_string(), |r| super::types::sql_name(&r.name))
        },
        udt_name,
        udt_schema: if user_defined { "public" } else { "pg_catalog" },
        max_length: None,
        precision: None,
        radix: None,
        scale: None,
        datetime_precision: None,
    };
    if array || user_defined {
        return facts;
    }
    let (precision, radix, scale) = match facts.udt_name.as_str() {
        "int2" => (Some(16), Some(2), Some(0)),
        "int4" => (Some(32), Some(2), Some(0)),
        "int8" => (Some(64), Some(2), Some(0)),
        "float4" => (Some(24), Some(2), None),
        "float8" => (Some(53), Some(2), None),
        "numeric" => {
            let (p, s) = modifier().and_then(|m| {
                let mut parts = m.split(',').map(|p| p.trim().parse::<i32>().ok());
                Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
            })
            .map_or((None, None), |(p, s)| (Some(p), Some(s)));
            (p, Some(10), s)
        }
        _ => (None, None, None),
    };
    facts.precision = precision;
    facts.radix = radix;
    facts.scale = scale;
    facts.max_length = match facts.udt_name.as_str() {
        "varchar" | "bpchar" | "bit" | "varbit" => modifier().and_then(|m| m.parse().ok()).or((facts.udt_name == "bpchar").then_some(1)),
        _ => None,
    };
    facts.datetime_precision = match facts.udt_name.as_str() {
        "date" => Some(0),
        "time" | "timetz" | "timestamp" | "timestamptz" | "interval" => Some(6),
        _ => None,
    };
    facts
}

/// One column of a table or view.
struct ColumnRow {
    schema: String,
    table: String,
    name: String,
    position: i32,
    default: Option<String>,
    nullable: bool,
    declared: String,
    identity: bool,
    view: bool,
}

async fn columns(source: &CatalogSource, catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    // Inside a view's expansion (a view reading this table), views' columns are left out:
    // planning them here could come back to this table without end.
    let plan_views = source.scope().lock().expect("scope lock").view_depth == 0;
    if let Ok(d) = catalog.database(db) {
        for (sname, s) in &d.schemas {
            for (tname, t) in &s.tables {
                for (i, c) in t.columns.iter().enumerate() {
                    rows.push(ColumnRow {
                        schema: sname.clone(),
                        table: tname.clone(),
                        name: c.name.clone(),
                        position: i as i32 + 1,
                        // An identity column has no default in PostgreSQL's terms.
                        default: if c.generated_always { None } else { c.default.clone() },
                        nullable: !c.not_null,
                        declared: c.type_name.clone(),
                        identity: c.generated_always,
                        view: false,
                    });
                }
            }
            for (vname, v) in &s.views {
                // A view's columns as kept at CREATE VIEW; a view from before they were kept is
                // planned here (not when this table is read inside a view's expansion). A view
                // that no longer plans (a table it reads was dropped) lists no columns.
                let columns: Vec<(String, String)> = if !v.column_types.is_empty() {
                    v.column_types.clone()
                } else if plan_views {
                    match crate::view::view_provider(source, db, sname, vname, v).await {
                        Ok(p) => p.schema().fields().iter().map(|f| (f.name().clone(), super::type_of::type_name(f))).collect(),
                        Err(e) => {
                            tracing::debug!(view = %vname, error = %e, "view left out of information_schema.columns");
                            continue;
                        }
                    }
                } else {
                    continue;
                };
                for (i, (name, declared)) in columns.into_iter().enumerate() {
                    rows.push(ColumnRow {
                        schema: sname.clone(),
                        table: vname.clone(),
                        name,
                        position: i as i32 + 1,
                        default: None,
                        nullable: true,
                        declared,
                        identity: false,
                        view: true,
                    });
                }
            }
        }
    }
    let rows = rows
        .into_iter()
        .map(|c| {
            let f = type_facts(&c.declared);
            let collatable = matches!(f.udt_name.as_str(), "text" | "varchar" | "bpchar");
            vec![
                text(db),
                text(c.schema),
                text(c.table),
                text(c.name),
                Value::Int(Some(c.position)),
                Value::Text(c.default),
                yes_no(c.nullable),
                text(f.data_type),
                Value::Int(f.max_length),
                Value::Int(if collatable { Some(f.max_length.map_or(1_073_741_824, |n| n * 4)) } else { None }),
                Value::Int(f.precision),
                Value::Int(f.radix),
                Value::Int(f.scale),
                Value::Int(f.datetime_precision),
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                NULL,
                text(db),
                text(f.udt_schema),
                text(f.udt_name),
                NULL,
                NULL,
                NULL,
                Value::Int(None),
                text(c.position.to_string()),
                text("NO"),
                yes_no(c.identity),
                if c.identity { text("ALWAYS") } else { NULL },
                NULL,
                NULL,
                NULL,
                NULL,
                if c.identity { text("NO") } else { NULL },
                text("NEVER"),
                NULL,
                yes_no(!c.view),
            ]
        })
        .collect();
    table(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "column_default",
            "is_nullable",
            "data_type",
            "character_maximum_length",
            "character_octet_length",
            "numeric_precision",
            "numeric_precision_radix",
            "numeric_scale",
            "datetime_precision",
            "interval_type",
            "interval_precision",
            "character_set_catalog",
            "character_set_schema",
            "character_set_name",
            "collation_catalog",
            "collation_schema",
            "collation_name",
            "domain_catalog",
            "domain_schema",
            "domain_name",
            "udt_catalog",
            "udt_schema",
            "udt_name",
            "scope_catalog",
            "scope_schema",
            "scope_name",
            "maximum_cardinality",
            "dtd_identifier",
            "is_self_referencing",
            "is_identity",
            "identity_generation",
            "identity_start",
            "identity_increment",
            "identity_maximum",
            "identity_minimum",
            "identity_cycle",
            "is_generated",
            "generation_expression",
            "is_updatable",
        ],
        rows,
    )
}

fn views(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    if let Ok(d) = catalog.database(db) {
        for (sname, s) in &d.schemas {
            for (vname, v) in &s.views {
                rows.push(vec![text(db), text(sname), text(vname), text(format!(" {};", v.query)), text("NONE"), text("NO"), text("NO"), text("NO"), text("NO"), text("NO")]);
            }
        }
    }
    table(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "view_definition",
            "check_option",
            "is_updatable",
            "is_insertable_into",
            "is_trigger_updatable",
            "is_trigger_deletable",
            "is_trigger_insertable_into",
        ],
        rows,
    )
}

fn table_constraints(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    for (sname, tname, t) in schema_tables(catalog, db) {
        for c in &t.constraints {
            let kind = if c.kind == ConstraintKind::PrimaryKey { "PRIMARY KEY" } else { "UNIQUE" };
            rows.push(vec![text(db), text(sname), text(&c.name), text(db), text(sname), text(tname), text(kind), text("NO"), text("NO"), text("YES"), text("YES")]);
        }
        for f in &t.foreign_keys {
            rows.push(vec![
                text(db),
                text(sname),
                text(&f.name),
                text(db),
                text(sname),
                text(tname),
                text("FOREIGN KEY"),
                yes_no(f.deferrable),
                yes_no(f.initially_deferred),
                text("YES"),
                NULL,
            ]);
        }
    }
    for (sname, tname, t) in schema_tables(catalog, db) {
        for c in &t.checks {
            rows.push(vec![text(db), text(sname), text(&c.name), text(db), text(sname), text(tname), text("CHECK"), text("NO"), text("NO"), text("YES"), NULL]);
        }
    }
    table(
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
        rows,
    )
}

/// `check_constraints`: the clause as PostgreSQL shows it, `pg_get_constraintdef` without its
/// `CHECK ` (NOT NULL columns, which PostgreSQL also lists here, are not).
fn check_constraints(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    for (sname, _, t) in schema_tables(catalog, db) {
        for c in &t.checks {
            let clause = crate::check_constraint::definition(c, false);
            rows.push(vec![text(db), text(sname), text(&c.name), text(clause.trim_start_matches("CHECK "))]);
        }
    }
    table(&["constraint_catalog", "constraint_schema", "constraint_name", "check_clause"], rows)
}

/// `key_column_usage` (with each column's position in its key) or `constraint_column_usage`.
fn key_columns(catalog: &Catalog, db: &str, key_usage: bool) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    for (sname, tname, t) in schema_tables(catalog, db) {
        for c in &t.constraints {
            for (i, col) in c.columns.iter().enumerate() {
                rows.push(if key_usage {
                    vec![text(db), text(sname), text(&c.name), text(db), text(sname), text(tname), text(col), Value::Int(Some(i as i32 + 1)), Value::Int(None)]
                } else {
                    vec![text(db), text(sname), text(tname), text(col), text(db), text(sname), text(&c.name)]
                });
            }
        }
        // A foreign key uses its own columns (key_column_usage) and the referenced
        // table's (constraint_column_usage), as in PostgreSQL.
        for f in &t.foreign_keys {
            let parent = catalog.table_name(f.ref_table).map(|(_, n)| n);
            for (i, col) in f.columns.iter().enumerate() {
                if key_usage {
                    rows.push(vec![text(db), text(sname), text(&f.name), text(db), text(sname), text(tname), text(col), Value::Int(Some(i as i32 + 1)), Value::Int(Some(i as i32 + 1))]);
                } else if let Some(p) = &parent {
                    rows.push(vec![text(db), text(&p.schema), text(&p.name), text(&f.ref_columns[i]), text(db), text(sname), text(&f.name)]);
                }
            }
        }
    }
    if key_usage {
        table(
            &[
                "constraint_catalog",
                "constraint_schema",
                "constraint_name",
                "table_catalog",
                "table_schema",
                "table_name",
                "column_name",
                "ordinal_position",
                "position_in_unique_constraint",
            ],
            rows,
        )
    } else {
        table(&["table_catalog", "table_schema", "table_name", "column_name", "constraint_catalog", "constraint_schema", "constraint_name"], rows)
    }
}

fn referential_constraints(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    for (sname, _, t) in schema_tables(catalog, db) {
        for f in &t.foreign_keys {
            let parent = catalog.table_name(f.ref_table).and_then(|(_, n)| Some((n.schema.clone(), catalog.table(db, &n).ok()?.clone())));
            let key = parent.as_ref().and_then(|(ps, p)| p.constraints.iter().find(|c| c.columns == f.ref_columns).map(|c| (ps.clone(), c.name.clone())));
            let rule = |a: char| text(referential_action(a).unwrap_or("NO ACTION"));
            rows.push(vec![
                text(db),
                text(sname),
                text(&f.name),
                text(db),
                key.as_ref().map_or(NULL, |k| text(&k.0)),
                key.as_ref().map_or(NULL, |k| text(&k.1)),
                text("NONE"),
                rule(f.on_update),
                rule(f.on_delete),
            ]);
        }
    }
    table(
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
        rows,
    )
}

fn sequences(catalog: &Catalog, db: &str) -> Result<RecordBatch> {
    let mut rows = Vec::new();
    if let Ok(d) = catalog.database(db) {
        for (sname, s) in &d.schemas {
            for (qname, q) in &s.sequences {
                rows.push(vec![
                    text(db),
                    text(sname),
                    text(qname),
                    text("bigint"),
                    Value::Int(Some(64)),
                    Value::Int(Some(2)),
                    Value::Int(Some(0)),
                    text(q.start.to_string()),
                    text(q.min_value.to_string()),
                    text(q.max_value.to_string()),
                    text(q.increment.to_string()),
                    text("NO"),
                ]);
            }
        }
    }
    table(
        &[
            "sequence_catalog",
            "sequence_schema",
            "sequence_name",
            "data_type",
            "numeric_precision",
            "numeric_precision_radix",
            "numeric_scale",
            "start_value",
            "minimum_value",
            "maximum_value",
            "increment",
            "cycle_option",
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_described_as_postgresql_describes_them() {
        // Each row as PostgreSQL 15 (+ pgvector) fills information_schema.columns.
        let cases: [(&str, &str, &str, Option<i32>, Option<i32>, Option<i32>, Option<i32>, Option<i32>); 10] = [
            ("integer", "integer", "int4", None, Some(32), Some(2), Some(0), None),
            ("bigint", "bigint", "int8", None, Some(64), Some(2), Some(0), None),
            ("character varying(20)", "character varying", "varchar", Some(20), None, None, None, None),
            ("text", "text", "text", None, None, None, None, None),
            ("numeric(10,2)", "numeric", "numeric", None, Some(10), Some(10), Some(2), None),
            ("numeric", "numeric", "numeric", None, None, Some(10), None, None),
            ("double precision", "double precision", "float8", None, Some(53), Some(2), None, None),
            ("timestamp with time zone", "timestamp with time zone", "timestamptz", None, None, None, None, Some(6)),
            ("vector(3)", "USER-DEFINED", "vector", None, None, None, None, None),
            ("integer[]", "ARRAY", "_int4", None, None, None, None, None),
        ];
        for (declared, data_type, udt, len, precision, radix, scale, dt) in cases {
            let f = type_facts(declared);
            assert_eq!(
                (f.data_type.as_str(), f.udt_name.as_str(), f.max_length, f.precision, f.radix, f.scale, f.datetime_precision),
                (data_type, udt, len, precision, radix, scale, dt),
                "{declared}"
            );
        }
    }
}

/// An action's name from its `pg_constraint` letter.
pub fn referential_action(letter: char) -> Option<&'static str> {
    match letter {
        'a' => Some("NO ACTION"),
        'r' => Some("RESTRICT"),
        'c' => Some("CASCADE"),
        'n' => Some("SET NULL"),
        'd' => Some("SET DEFAULT"),
        _ => None,
    }
}
