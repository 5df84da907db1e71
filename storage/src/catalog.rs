//! The durable catalog: databases, schemas, tables, views, sequences and roles.
//!
//! It is the one source of truth for each table's committed Lance version: readers open that
//! version, and a write becomes visible (and acknowledged) only when a new catalog naming its new
//! version has been written with [`crate::durable::write_atomic`]. Lance versions that were never
//! published are ignored after a crash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// First OID handed to user objects, as in PostgreSQL (lower ones belong to the system).
/// Above the OIDs QuartzDB gives its built-in types (pgvector's `vector` is 16385).
pub const FIRST_USER_OID: u32 = 16400;
const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub format: u32,
    pub next_oid: u32,
    pub roles: BTreeMap<String, RoleMeta>,
    pub databases: BTreeMap<String, DatabaseMeta>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleMeta {
    pub oid: u32,
    pub superuser: bool,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseMeta {
    pub oid: u32,
    pub schemas: BTreeMap<String, SchemaMeta>,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SchemaMeta {
    pub oid: u32,
    pub tables: BTreeMap<String, TableMeta>,
    pub views: BTreeMap<String, ViewMeta>,
    pub sequences: BTreeMap<String, SequenceMeta>,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
    pub oid: u32,
    /// Directory of the Lance dataset under `tables/`: an opaque id, never derived from the name.
    pub dir: String,
    pub columns: Vec<ColumnMeta>,
    pub constraints: Vec<ConstraintMeta>,
    /// The committed Lance version readers see.
    pub version: u64,
    /// Indexes on the table's columns; each is a Lance index in the dataset's manifest.
    #[serde(default)]
    pub indexes: Vec<IndexMeta>,
    /// FOREIGN KEY constraints of this (referencing) table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKeyMeta>,
    /// CHECK constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::checks::CheckMeta>,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl IndexMeta {
    /// All the columns the index was declared on, in order.
    pub fn columns(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.column).chain(&self.more_columns)
    }
}

/// An index as SQL sees it. The index data itself lives in the table's Lance dataset, named
/// [`IndexMeta::lance_name`], and is committed with the table version that published it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexMeta {
    pub oid: u32,
    /// The SQL name; unique among the relations of its schema, as in PostgreSQL.
    pub name: String,
    /// The indexed column; for a multi-column scalar index its first, the one Lance indexes.
    pub column: String,
    /// A scalar index's columns after the first, as declared (`CREATE INDEX ON t (a, b)`). Lance's
    /// scalar indexes cover one column: the index is built on `column` and serves lookups on
    /// it, as PostgreSQL's serves its leading column; the rest are kept for the catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_columns: Vec<String>,
    pub method: crate::index_spec::IndexMethod,
    /// The operator class as written or defaulted (`vector_l2_ops`); `None` for scalar indexes.
    pub opclass: Option<String>,
    /// The distance the index orders by; `None` for scalar indexes.
    pub metric: Option<crate::index_spec::Metric>,
    /// `WITH (...)` options exactly as given; defaults are computed at each build.
    pub options: BTreeMap<String, i64>,
    /// The index's name inside the Lance manifest (independent of renames).
    pub lance_name: String,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnMeta {
    pub name: String,
    /// The column's type as PostgreSQL prints it (`format_type`), e.g. `numeric(10,2)`.
    pub type_name: String,
    pub not_null: bool,
    /// Default expression in SQL text, planned at each INSERT.
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS IDENTITY`: INSERT may not give a value (428C9).
    #[serde(default)]
    pub generated_always: bool,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConstraintMeta {
    pub name: String,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
    /// The constraint's own OID and that of the unique index behind it, as PostgreSQL gives
    /// both (`pg_constraint.oid`, `pg_index.indexrelid`). Zero until the catalog assigns them
    /// ([`Catalog::assign_missing_oids`]), so catalogs written before they existed still load.
    #[serde(default)]
    pub oid: u32,
    #[serde(default)]
    pub index_oid: u32,
    /// `COMMENT ON INDEX` of the unique index behind the constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_comment: Option<String>,
    /// `COMMENT ON CONSTRAINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl ConstraintMeta {
    pub fn new(name: String, kind: ConstraintKind, columns: Vec<String>) -> Self {
        Self { name, kind, columns, oid: 0, index_oid: 0, index_comment: None, comment: None }
    }
}

/// A FOREIGN KEY: each non-NULL key of `columns` must be a key of the referenced table's PRIMARY
/// KEY or UNIQUE constraint over `ref_columns`. The referenced table is named by OID, so renaming
/// it needs no change here (its column renames do).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForeignKeyMeta {
    pub name: String,
    #[serde(default)]
    pub oid: u32,
    pub columns: Vec<String>,
    pub ref_table: u32,
    pub ref_columns: Vec<String>,
    /// `ON DELETE` / `ON UPDATE`: NO ACTION, RESTRICT, CASCADE, SET NULL (`a`, `r`, `c`, `n`,
    /// as `pg_constraint.confdeltype` spells them).
    pub on_delete: char,
    pub on_update: char,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// `COMMENT ON CONSTRAINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewMeta {
    pub oid: u32,
    /// The view's query as SQL text, re-planned on each use.
    pub query: String,
    /// Column aliases given in `CREATE VIEW v (a, b)`, if any.
    pub columns: Vec<String>,
    /// The view's result columns (name, PostgreSQL type) as planned at CREATE VIEW, which
    /// `pg_attribute` and `information_schema.columns` show; empty for views made before it
    /// was kept (those are planned when asked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_types: Vec<(String, String)>,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `COMMENT ON COLUMN view.column`, by column number (from 1): a view's columns are known
    /// only by planning its query, and `CREATE OR REPLACE VIEW` keeps the existing ones in place.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub column_comments: BTreeMap<i16, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceMeta {
    pub oid: u32,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub start: i64,
    /// The last value handed out, or `None` before the first `nextval`.
    pub last_value: Option<i64>,
    /// `table.column` when created by serial/identity, so DROP TABLE drops it too.
    pub owned_by: Option<(String, String)>,
    /// `COMMENT ON …`; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl SequenceMeta {
    pub fn new(oid: u32, owned_by: Option<(String, String)>) -> Self {
        Self { oid, increment: 1, min_value: 1, max_value: i64::MAX, start: 1, last_value: None, owned_by, comment: None }
    }

    /// `setval(…, value, is_called)`: `value` is the last value handed out, or (not `is_called`)
    /// the next one.
    pub fn set_value(&mut self, name: &str, value: i64, is_called: bool) -> Result<()> {
        if value < self.min_value || value > self.max_value {
            return Err(Error::SequenceValueOutOfBounds { sequence: name.into(), value, min: self.min_value, max: self.max_value });
        }
        self.last_value = match (is_called, value.checked_sub(self.increment)) {
            (true, _) => Some(value),
            (false, _) if value == self.start => None,
            (false, Some(before)) => Some(before),
            (false, None) => return Err(Error::SequenceValueOutOfBounds { sequence: name.into(), value, min: self.min_value, max: self.max_value }),
        };
        Ok(())
    }

    /// Hands out `n` values; fails (leaving the sequence unchanged) when it would pass its bound.
    pub fn next_values(&mut self, name: &str, n: usize) -> Result<Vec<i64>> {
        let mut out = Vec::with_capacity(n);
        let mut last = self.last_value;
        for _ in 0..n {
            let next = match last {
                None => self.start,
                Some(v) => v.checked_add(self.increment).ok_or_else(|| Error::SequenceExhausted(name.into()))?,
            };
            if next > self.max_value || next < self.min_value {
                return Err(Error::SequenceExhausted(name.into()));
            }
            out.push(next);
            last = Some(next);
        }
        self.last_value = last;
        Ok(out)
    }
}

/// A schema-qualified object name inside one database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self { schema: schema.into(), name: name.into() }
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

impl Catalog {
    /// The catalog of a fresh data directory: databases `quartz` and `postgres`, each with schema
    /// `public`, and the superuser role `quartz`.
    pub fn bootstrap() -> Self {
        let mut c = Catalog { format: FORMAT, next_oid: FIRST_USER_OID, roles: BTreeMap::new(), databases: BTreeMap::new() };
        let role = c.allocate_oid();
        c.roles.insert("quartz".into(), RoleMeta { oid: role, superuser: true, comment: None });
        for db in ["postgres", "quartz"] {
            let oid = c.allocate_oid();
            let public = SchemaMeta { oid: c.allocate_oid(), ..Default::default() };
            c.databases.insert(db.into(), DatabaseMeta { oid, schemas: BTreeMap::from([("public".into(), public)]), comment: None });
        }
        c
    }

    pub fn from_json(bytes: &[u8]) -> std::result::Result<Self, String> {
        let c: Catalog = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if c.format != FORMAT {
            return Err(format!("unsupported catalog format {}", c.format));
        }
        let mut c = c;
        c.assign_missing_oids();
        Ok(c)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("catalog serializes")
    }

    /// Gives every constraint without OIDs a pair. Deterministic for one catalog file (the
    /// maps are ordered), so OIDs are the same after every restart even before the next write.
    pub fn assign_missing_oids(&mut self) {
        let mut next = self.next_oid;
        for db in self.databases.values_mut() {
            for schema in db.schemas.values_mut() {
                for table in schema.tables.values_mut() {
                    for c in table.constraints.iter_mut().filter(|c| c.oid == 0) {
                        c.oid = next;
                        c.index_oid = next + 1;
                        next += 2;
                    }
                    for f in table.foreign_keys.iter_mut().filter(|f| f.oid == 0) {
                        f.oid = next;
                        next += 1;
                    }
                    for c in table.checks.iter_mut().filter(|c| c.oid == 0) {
                        c.oid = next;
                        next += 1;
                    }
                }
            }
        }
        self.next_oid = next;
    }

    pub fn allocate_oid(&mut self) -> u32 {
        let oid = self.next_oid;
        self.next_oid += 1;
        oid
    }

    pub fn database(&self, db: &str) -> Result<&DatabaseMeta> {
        self.databases.get(db).ok_or_else(|| Error::UnknownDatabase(db.into()))
    }

    pub fn schema(&self, db: &str, schema: &str) -> Result<&SchemaMeta> {
        self.database(db)?.schemas.get(schema).ok_or_else(|| Error::UnknownSchema(schema.into()))
    }

    pub fn schema_mut(&mut self, db: &str, schema: &str) -> Result<&mut SchemaMeta> {
        self.databases
            .get_mut(db)
            .ok_or_else(|| Error::UnknownDatabase(db.into()))?
            .schemas
            .get_mut(schema)
            .ok_or_else(|| Error::UnknownSchema(schema.into()))
    }

    pub fn table(&self, db: &str, name: &QualifiedName) -> Result<&TableMeta> {
        self.schema(db, &name.schema)?.tables.get(&name.name).ok_or_else(|| Error::UnknownTable(name.name.clone()))
    }

    pub fn table_mut(&mut self, db: &str, name: &QualifiedName) -> Result<&mut TableMeta> {
        self.schema_mut(db, &name.schema)?
            .tables
            .get_mut(&name.name)
            .ok_or_else(|| Error::UnknownTable(name.name.clone()))
    }

    /// True when a table, view, sequence or index of that name exists (they share one namespace).
    pub fn relation_exists(&self, db: &str, name: &QualifiedName) -> Result<bool> {
        let s = self.schema(db, &name.schema)?;
        Ok(s.tables.contains_key(&name.name)
            || s.views.contains_key(&name.name)
            || s.sequences.contains_key(&name.name)
            || s.tables.values().any(|t| t.indexes.iter().any(|i| i.name == name.name)))
    }

    /// The table holding index `name` in `schema`, with the index.
    pub fn index(&self, db: &str, schema: &str, name: &str) -> Result<Option<(&String, &TableMeta, &IndexMeta)>> {
        let s = self.schema(db, schema)?;
        Ok(s.tables.iter().find_map(|(t, meta)| meta.indexes.iter().find(|i| i.name == name).map(|i| (t, meta, i))))
    }

    /// The database and name of the table with this OID.
    pub fn table_name(&self, oid: u32) -> Option<(String, QualifiedName)> {
        self.databases.iter().find_map(|(db, d)| {
            d.schemas.iter().find_map(|(s, schema)| schema.tables.iter().find(|(_, t)| t.oid == oid).map(|(t, _)| (db.clone(), QualifiedName::new(s, t))))
        })
    }

    /// The foreign keys in database `db` that reference table `oid`, with their tables' names.
    pub fn referencing(&self, db: &str, oid: u32) -> Vec<(QualifiedName, &TableMeta, &ForeignKeyMeta)> {
        let Ok(d) = self.database(db) else { return Vec::new() };
        d.schemas
            .iter()
            .flat_map(|(s, schema)| schema.tables.iter().map(move |(t, meta)| (QualifiedName::new(s, t), meta)))
            .flat_map(|(name, meta)| meta.foreign_keys.iter().filter(|f| f.ref_table == oid).map(move |f| (name.clone(), meta, f)))
            .collect()
    }

    /// Every FOREIGN KEY of database `db`, with its table.
    pub fn foreign_keys(&self, db: &str) -> Vec<(&TableMeta, &ForeignKeyMeta)> {
        let Ok(d) = self.database(db) else { return Vec::new() };
        d.schemas.values().flat_map(|s| s.tables.values()).flat_map(|t| t.foreign_keys.iter().map(move |f| (t, f))).collect()
    }

    /// Every table directory the catalog references, for sweeping orphans at startup.
    pub fn table_dirs(&self) -> impl Iterator<Item = &TableMeta> {
        self.databases.values().flat_map(|d| d.schemas.values()).flat_map(|s| s.tables.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_has_the_default_databases_and_role() {
        let c = Catalog::bootstrap();
        assert!(c.database("quartz").is_ok());
        assert!(c.database("postgres").is_ok());
        assert!(c.schema("quartz", "public").is_ok());
        assert!(c.roles["quartz"].superuser);
        assert!(matches!(c.database("nope"), Err(Error::UnknownDatabase(_))));
    }

    #[test]
    fn json_round_trips() {
        let c = Catalog::bootstrap();
        let back = Catalog::from_json(&c.to_json()).unwrap();
        assert_eq!(back.next_oid, c.next_oid);
        assert!(Catalog::from_json(b"{").is_err());
    }

    #[test]
    fn sequences_count_and_stop_at_their_bound() {
        let mut s = SequenceMeta::new(1, None);
        assert_eq!(s.next_values("s", 3).unwrap(), vec![1, 2, 3]);
        s.max_value = 4;
        assert!(s.next_values("s", 2).is_err());
        assert_eq!(s.last_value, Some(3), "a failed nextval leaves the sequence unchanged");
        assert_eq!(s.next_values("s", 1).unwrap(), vec![4]);
    }
}
