//! Relations in the catalog: `pg_class`, `pg_attribute`, `pg_attrdef`, `pg_index`,
//! `pg_constraint` and `pg_am`, built from QuartzDB's catalog so psql's `\d`, `\dt`, `\di` and
//! ORMs' reflection read the real tables, columns, defaults, keys and indexes.
//!
//! A PRIMARY KEY or UNIQUE constraint is, as in PostgreSQL, a constraint row plus a unique btree
//! index row (QuartzDB enforces it with its own key index, which is what the row stands for).

use quartzdb_storage::{Catalog, ConstraintKind, ConstraintMeta, IndexMeta, TableMeta};

use super::builder::Table;
use super::types::{resolve, types, PG_CATALOG_OID, PUBLIC_OID};
use super::SUPERUSER_OID;
use datafusion::error::Result;
use arrow::array::RecordBatch;

/// The access method of QuartzDB's tables: a Lance dataset.
pub const LANCE_AM_OID: u32 = 16_360;
const BTREE_AM_OID: u32 = 403;

/// Access methods: the table one, then every index method `CREATE INDEX … USING` takes.
pub fn access_methods() -> Vec<(u32, &'static str, char)> {
    let mut out = vec![(LANCE_AM_OID, "lance", 't'), (BTREE_AM_OID, "btree", 'i')];
    let methods = ["hnsw", "ivfflat", "ivf_flat", "ivf_pq", "ivf_sq", "ivf_rq", "ivf_hnsw_sq", "ivf_hnsw_pq", "ivf_hnsw_flat", "bitmap"];
    out.extend(methods.iter().enumerate().map(|(i, m)| (LANCE_AM_OID + 1 + i as u32, *m, 'i')));
    out
}

fn am_oid(method: &str) -> u32 {
    access_methods().into_iter().find(|(_, n, _)| *n == method).map_or(0, |(oid, _, _)| oid)
}

/// The OID `pg_namespace` gives a schema.
pub fn namespace_oid(name: &str, oid: u32) -> u32 {
    if name == "public" { PUBLIC_OID } else { oid }
}

/// Every schema with its `pg_namespace` OID: pg_catalog, information_schema, then the database's.
pub fn namespaces(catalog: &Catalog, database: &str) -> Vec<(u32, String)> {
    let mut out = vec![(PG_CATALOG_OID, super::SCHEMA.to_string()), (super::INFORMATION_SCHEMA_OID, "information_schema".to_string())];
    if let Ok(db) = catalog.database(database) {
        out.extend(db.schemas.iter().map(|(n, s)| (namespace_oid(n, s.oid), n.clone())));
    }
    out
}

/// One `pg_class` row.
#[derive(Debug, Clone)]
pub struct Class {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub kind: char,
    pub am: u32,
    pub natts: i16,
    pub has_index: bool,
    /// PostgreSQL implements FOREIGN KEYs with triggers on both tables; psql shows a table's
    /// foreign keys and "Referenced by" only when this is set.
    pub has_triggers: bool,
    /// `relchecks`: CHECK constraints (psql lists them only when this says there are some).
    pub checks: i16,
    pub tuples: f32,
}

/// An index as `pg_index` and `pg_get_indexdef` see it: a Lance index or a key constraint's.
pub struct Index<'a> {
    pub oid: u32,
    pub table: &'a TableMeta,
    pub source: IndexRef<'a>,
}

pub enum IndexRef<'a> {
    Key(&'a ConstraintMeta),
    Lance(&'a IndexMeta),
}

impl Index<'_> {
    pub fn name(&self) -> &str {
        match self.source {
            IndexRef::Key(c) => &c.name,
            IndexRef::Lance(i) => &i.name,
        }
    }

    pub fn columns(&self) -> Vec<&str> {
        match self.source {
            IndexRef::Key(c) => c.columns.iter().map(String::as_str).collect(),
            IndexRef::Lance(i) => i.columns().map(String::as_str).collect(),
        }
    }

    fn unique(&self) -> bool {
        matches!(self.source, IndexRef::Key(_))
    }

    fn primary(&self) -> bool {
        matches!(self.source, IndexRef::Key(c) if c.kind == ConstraintKind::PrimaryKey)
    }

    /// Key constraints are enforced by QuartzDB's own key index, shown as PostgreSQL's btree.
    fn am(&self) -> u32 {
        match self.source {
            IndexRef::Key(_) => BTREE_AM_OID,
            IndexRef::Lance(i) => am_oid(i.method.name()),
        }
    }
}

/// Every relation of a database's schemas, plus pg_catalog's own tables.
pub fn classes(catalog: &Catalog, database: &str) -> Vec<Class> {
    let mut out: Vec<Class> = super::TABLES
        .iter()
        .map(|(name, oid, kind)| Class { oid: *oid, name: name.to_string(), namespace: PG_CATALOG_OID, kind: *kind, am: 0, natts: 0, has_index: false, has_triggers: false, checks: 0, tuples: -1.0 })
        .collect();
    let Ok(db) = catalog.database(database) else { return out };
    for (sname, s) in &db.schemas {
        let namespace = namespace_oid(sname, s.oid);
        let class = |oid, name: &str, kind, am, natts| Class { oid, name: name.to_string(), namespace, kind, am, natts, has_index: false, has_triggers: false, checks: 0, tuples: -1.0 };
        for (tname, t) in &s.tables {
            let mut c = class(t.oid, tname, 'r', LANCE_AM_OID, t.columns.len() as i16);
            c.has_index = !t.indexes.is_empty() || !t.constraints.is_empty();
            c.has_triggers = !t.foreign_keys.is_empty() || !catalog.referencing(database, t.oid).is_empty();
            c.checks = t.checks.len() as i16;
            out.push(c);
            for i in indexes(t) {
                out.push(class(i.oid, i.name(), 'i', i.am(), i.columns().len() as i16));
            }
        }
        for (vname, v) in &s.views {
            out.push(class(v.oid, vname, 'v', 0, v.columns.len() as i16));
        }
        for (qname, q) in &s.sequences {
            out.push(class(q.oid, qname, 'S', 0, 3));
        }
    }
    out
}

/// A table's indexes: key constraints first (as PostgreSQL lists them), then Lance indexes.
pub fn indexes(t: &TableMeta) -> Vec<Index<'_>> {
    let keys = t.constraints.iter().map(|c| Index { oid: c.index_oid, table: t, source: IndexRef::Key(c) });
    let lance = t.indexes.iter().map(|i| Index { oid: i.oid, table: t, source: IndexRef::Lance(i) });
    keys.chain(lance).collect()
}

/// Finds an index (key constraint or Lance index) by OID anywhere in the database, with its
/// schema and table names.
pub fn find_index<'a>(catalog: &'a Catalog, database: &str, oid: u32) -> Option<(&'a str, &'a str, Index<'a>)> {
    let db = catalog.database(database).ok()?;
    db.schemas.iter().find_map(|(sname, s)| {
        s.tables.iter().find_map(|(tname, t)| indexes(t).into_iter().find(|i| i.oid == oid).map(|i| (sname.as_str(), tname.as_str(), i)))
    })
}

/// PostgreSQL's text for a key constraint's index (`CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)`).
pub fn key_indexdef(schema: &str, table: &str, c: &ConstraintMeta) -> String {
    let cols: Vec<String> = c.columns.iter().map(|c| crate::names::quote_ident(c)).collect();
    format!(
        "CREATE UNIQUE INDEX {} ON {}.{} USING btree ({})",
        crate::names::quote_ident(&c.name),
        crate::names::quote_ident(schema),
        crate::names::quote_ident(table),
        cols.join(", ")
    )
}

/// `pg_get_constraintdef`: `PRIMARY KEY (id)`, `UNIQUE (a, b)`.
/// `pg_get_constraintdef` of a FOREIGN KEY: `FOREIGN KEY (a) REFERENCES p(id) DEFERRABLE
/// INITIALLY DEFERRED`, the referenced table qualified when its schema is not public.
pub fn foreign_keydef(f: &quartzdb_storage::ForeignKeyMeta, parent: Option<(&str, &str)>) -> String {
    let ident = crate::names::quote_ident;
    let cols = |c: &[String]| c.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    let parent = match parent {
        Some(("public", t)) => ident(t),
        Some((s, t)) => format!("{}.{}", ident(s), ident(t)),
        None => f.ref_table.to_string(),
    };
    let mut out = format!("FOREIGN KEY ({}) REFERENCES {parent}({})", cols(&f.columns), cols(&f.ref_columns));
    for (event, action) in [("UPDATE", f.on_update), ("DELETE", f.on_delete)] {
        if let Some(name) = super::information_schema::referential_action(action).filter(|a| *a != "NO ACTION") {
            out.push_str(&format!(" ON {event} {name}"));
        }
    }
    if f.deferrable {
        out.push_str(" DEFERRABLE");
    }
    if f.initially_deferred {
        out.push_str(" INITIALLY DEFERRED");
    }
    out
}

pub fn constraintdef(c: &ConstraintMeta) -> String {
    let cols: Vec<String> = c.columns.iter().map(|c| crate::names::quote_ident(c)).collect();
    let kind = match c.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        ConstraintKind::Unique => "UNIQUE",
    };
    format!("{kind} ({})", cols.join(", "))
}

pub fn pg_class(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let rows = classes(catalog, database);
    Table::new(&rows)
        .oid("oid", |r| r.oid)
        .text("relname", |r| Some(r.name.clone()))
        .oid("relnamespace", |r| r.namespace)
        .oid("reltype", |_| 0)
        .oid("reloftype", |_| 0)
        .oid("relowner", |_| SUPERUSER_OID)
        .oid("relam", |r| r.am)
        .oid("relfilenode", |r| r.oid)
        .oid("reltablespace", |_| 0)
        .i32("relpages", |_| 0)
        .f32("reltuples", |r| r.tuples)
        .i32("relallvisible", |_| 0)
        .oid("reltoastrelid", |_| 0)
        .bool("relhasindex", |r| r.has_index)
        .bool("relisshared", |_| false)
        .char("relpersistence", |_| 'p')
        .char("relkind", |r| r.kind)
        .i16("relnatts", |r| r.natts)
        .i16("relchecks", |r| r.checks)
        .bool("relhasrules", |r| r.kind == 'v')
        .bool("relhastriggers", |r| r.has_triggers)
        .bool("relhassubclass", |_| false)
        .bool("relrowsecurity", |_| false)
        .bool("relforcerowsecurity", |_| false)
        .bool("relispopulated", |_| true)
        .char("relreplident", |r| if r.kind == 'r' { 'd' } else { 'n' })
        .bool("relispartition", |_| false)
        .oid("relrewrite", |_| 0)
        .oid("relfrozenxid", |_| 0)
        .oid("relminmxid", |_| 0)
        .text_list("relacl", |_| None)
        .text_list("reloptions", |_| None)
        .null_text("relpartbound")
        .finish()
}

/// One `pg_attribute` row.
struct Attribute {
    relid: u32,
    name: String,
    number: i16,
    type_oid: u32,
    typmod: i32,
    len: i16,
    not_null: bool,
    has_default: bool,
    identity: char,
}

fn attributes(catalog: &Catalog, database: &str) -> Vec<Attribute> {
    let t = types();
    let mut out = Vec::new();
    let Ok(db) = catalog.database(database) else { return out };
    let attribute = |relid, number, c: &quartzdb_storage::ColumnMeta| {
        let type_oid = resolve(t, &c.type_name).unwrap_or(0);
        Attribute {
            relid,
            name: c.name.clone(),
            number,
            type_oid,
            typmod: super::types::typmod(&c.type_name),
            len: t.iter().find(|r| r.oid == type_oid).map_or(-1, |r| r.len),
            not_null: c.not_null,
            has_default: c.default.is_some() && !c.generated_always,
            identity: if c.generated_always { 'a' } else { '\0' },
        }
    };
    for s in db.schemas.values() {
        for table in s.tables.values() {
            for (n, c) in table.columns.iter().enumerate() {
                out.push(attribute(table.oid, n as i16 + 1, c));
            }
            for i in indexes(table) {
                for (n, col) in i.columns().iter().enumerate() {
                    if let Some(c) = table.columns.iter().find(|c| c.name == *col) {
                        let mut a = attribute(i.oid, n as i16 + 1, c);
                        a.has_default = false;
                        a.identity = '\0';
                        out.push(a);
                    }
                }
            }
        }
    }
    out
}

/// `pg_attribute`: tables' and indexes' columns from the catalog, and views' columns (`views`:
/// each view's OID and its columns' names and PostgreSQL types).
pub fn pg_attribute(catalog: &Catalog, database: &str, views: &[(u32, Vec<(String, String)>)]) -> Result<RecordBatch> {
    let mut rows = attributes(catalog, database);
    let t = types();
    for (oid, columns) in views {
        for (n, (name, type_name)) in columns.iter().enumerate() {
            let type_oid = resolve(t, type_name).unwrap_or(0);
            rows.push(Attribute {
                relid: *oid,
                name: name.clone(),
                number: n as i16 + 1,
                type_oid,
                typmod: super::types::typmod(type_name),
                len: t.iter().find(|r| r.oid == type_oid).map_or(-1, |r| r.len),
                not_null: false,
                has_default: false,
                identity: '\0',
            });
        }
    }
    Table::new(&rows)
        .oid("attrelid", |r| r.relid)
        .text("attname", |r| Some(r.name.clone()))
        .oid("atttypid", |r| r.type_oid)
        .i32("attstattarget", |_| -1)
        .i16("attlen", |r| r.len)
        .i16("attnum", |r| r.number)
        .i32("attndims", |_| 0)
        .i32("attcacheoff", |_| -1)
        .i32("atttypmod", |r| r.typmod)
        .bool("attbyval", |r| (1..=8).contains(&r.len))
        .char("attalign", |_| 'd')
        .char("attstorage", |_| 'p')
        .char("attcompression", |_| '\0')
        .bool("attnotnull", |r| r.not_null)
        .bool("atthasdef", |r| r.has_default)
        .bool("atthasmissing", |_| false)
        .char("attidentity", |r| r.identity)
        .char("attgenerated", |_| '\0')
        .bool("attisdropped", |_| false)
        .bool("attislocal", |_| true)
        .i32("attinhcount", |_| 0)
        .oid("attcollation", |r| if super::types::is_collatable(r.type_oid) { 100 } else { 0 })
        .text_list("attacl", |_| None)
        .text_list("attoptions", |_| None)
        .text_list("attfdwoptions", |_| None)
        .finish()
}

/// `pg_sequence`: each sequence's parameters, typed as the column that owns it (a serial
/// column's sequence is `integer`, and its maximum the type's, as PostgreSQL shows it).
pub fn pg_sequence(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows: Vec<(u32, u32, i64, i64, i64, i64)> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for s in db.schemas.values() {
            for q in s.sequences.values() {
                let owner_type = q.owned_by.as_ref().and_then(|(t, c)| s.tables.get(t)?.columns.iter().find(|col| &col.name == c)).map(|c| c.type_name.as_str());
                let (type_oid, type_max) = match owner_type {
                    Some("integer" | "int" | "int4" | "serial") => (23, i32::MAX as i64),
                    Some("smallint" | "int2" | "smallserial") => (21, i16::MAX as i64),
                    _ => (20, i64::MAX),
                };
                rows.push((q.oid, type_oid, q.start, q.increment, q.max_value.min(type_max), q.min_value));
            }
        }
    }
    Table::new(&rows)
        .oid("seqrelid", |r| r.0)
        .oid("seqtypid", |r| r.1)
        .i64("seqstart", |r| r.2)
        .i64("seqincrement", |r| r.3)
        .i64("seqmax", |r| r.4)
        .i64("seqmin", |r| r.5)
        .i64("seqcache", |_| 1)
        .bool("seqcycle", |_| false)
        .finish()
}

/// `pg_depend`: the one dependency QuartzDB records, a serial or identity column's ownership of
/// its sequence (deptype `a`, `i` for identity), which psql's `\d sequence` ("Owned by") and
/// Django's `get_sequences` read.
pub fn pg_depend(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    const PG_CLASS: u32 = 1259;
    let mut rows: Vec<(u32, u32, i32, char)> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for s in db.schemas.values() {
            for q in s.sequences.values() {
                let Some((table, column)) = &q.owned_by else { continue };
                let Some(t) = s.tables.get(table) else { continue };
                let Some(n) = t.columns.iter().position(|c| &c.name == column) else { continue };
                rows.push((q.oid, t.oid, n as i32 + 1, if t.columns[n].generated_always { 'i' } else { 'a' }));
            }
        }
    }
    Table::new(&rows)
        .oid("classid", |_| PG_CLASS)
        .oid("objid", |r| r.0)
        .i32("objsubid", |_| 0)
        .oid("refclassid", |_| PG_CLASS)
        .oid("refobjid", |r| r.1)
        .i32("refobjsubid", |r| r.2)
        .char("deptype", |r| r.3)
        .finish()
}

/// `pg_attrdef`: defaults as their SQL text, which `pg_get_expr` returns unchanged.
pub fn pg_attrdef(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows: Vec<(u32, u32, i16, String)> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for s in db.schemas.values() {
            for t in s.tables.values() {
                for (n, c) in t.columns.iter().enumerate() {
                    if let (Some(d), false) = (&c.default, c.generated_always) {
                        // No OID of its own in QuartzDB's catalog: the table's, offset by column.
                        rows.push((t.oid, t.oid, n as i16 + 1, d.clone()));
                    }
                }
            }
        }
    }
    Table::new(&rows)
        .oid("oid", |r| r.0)
        .oid("adrelid", |r| r.1)
        .i16("adnum", |r| r.2)
        .text("adbin", |r| Some(r.3.clone()))
        .finish()
}

pub fn pg_index(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows: Vec<Index> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for s in db.schemas.values() {
            for t in s.tables.values() {
                rows.extend(indexes(t));
            }
        }
    }
    let position = |r: &Index, col: &str| r.table.columns.iter().position(|c| c.name == col).map_or(0, |p| p as i16 + 1);
    Table::new(&rows)
        .oid("indexrelid", |r| r.oid)
        .oid("indrelid", |r| r.table.oid)
        .i16("indnatts", |r| r.columns().len() as i16)
        .i16("indnkeyatts", |r| r.columns().len() as i16)
        .bool("indisunique", |r| r.unique())
        .bool("indnullsnotdistinct", |_| false)
        .bool("indisprimary", |r| r.primary())
        .bool("indisexclusion", |_| false)
        .bool("indimmediate", |r| r.unique())
        .bool("indisclustered", |_| false)
        .bool("indisvalid", |_| true)
        .bool("indcheckxmin", |_| false)
        .bool("indisready", |_| true)
        .bool("indislive", |_| true)
        .bool("indisreplident", |_| false)
        .int2vector("indkey", |r| Some(r.columns().iter().map(|c| position(r, c)).collect()))
        .oidvector("indcollation", |r| Some(vec![0; r.columns().len()]))
        .oidvector("indclass", |r| Some(vec![0; r.columns().len()]))
        .int2vector("indoption", |r| Some(vec![0; r.columns().len()]))
        .null_text("indexprs")
        .null_text("indpred")
        .finish()
}

/// One `pg_constraint` row: a key constraint, or a FOREIGN KEY with what it references.
struct ConstraintRow {
    oid: u32,
    name: String,
    namespace: u32,
    kind: char,
    deferrable: bool,
    deferred: bool,
    relid: u32,
    indid: u32,
    frelid: u32,
    on_update: char,
    on_delete: char,
    conkey: Vec<i16>,
    confkey: Option<Vec<i16>>,
}

fn position(t: &TableMeta, col: &str) -> i16 {
    t.columns.iter().position(|c| c.name == col).map_or(0, |p| p as i16 + 1)
}

pub fn pg_constraint(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows: Vec<ConstraintRow> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        let tables: Vec<&TableMeta> = db.schemas.values().flat_map(|s| s.tables.values()).collect();
        for (sname, s) in &db.schemas {
            let namespace = namespace_oid(sname, s.oid);
            for t in s.tables.values() {
                rows.extend(t.constraints.iter().map(|c| ConstraintRow {
                    oid: c.oid,
                    name: c.name.clone(),
                    namespace,
                    kind: if c.kind == ConstraintKind::PrimaryKey { 'p' } else { 'u' },
                    deferrable: false,
                    deferred: false,
                    relid: t.oid,
                    indid: c.index_oid,
                    frelid: 0,
                    on_update: ' ',
                    on_delete: ' ',
                    conkey: c.columns.iter().map(|col| position(t, col)).collect(),
                    confkey: None,
                }));
                rows.extend(t.checks.iter().map(|c| ConstraintRow {
                    oid: c.oid,
                    name: c.name.clone(),
                    namespace,
                    kind: 'c',
                    deferrable: false,
                    deferred: false,
                    relid: t.oid,
                    indid: 0,
                    frelid: 0,
                    on_update: ' ',
                    on_delete: ' ',
                    conkey: c.columns.iter().map(|col| position(t, col)).collect(),
                    confkey: None,
                }));
                for f in &t.foreign_keys {
                    let parent = tables.iter().find(|p| p.oid == f.ref_table);
                    rows.push(ConstraintRow {
                        oid: f.oid,
                        name: f.name.clone(),
                        namespace,
                        kind: 'f',
                        deferrable: f.deferrable,
                        deferred: f.initially_deferred,
                        relid: t.oid,
                        // The referenced key's index, as PostgreSQL records it.
                        indid: parent.and_then(|p| p.constraints.iter().find(|c| c.columns == f.ref_columns)).map_or(0, |c| c.index_oid),
                        frelid: f.ref_table,
                        on_update: f.on_update,
                        on_delete: f.on_delete,
                        conkey: f.columns.iter().map(|col| position(t, col)).collect(),
                        confkey: parent.map(|p| f.ref_columns.iter().map(|col| position(p, col)).collect()),
                    });
                }
            }
        }
    }
    Table::new(&rows)
        .oid("oid", |r| r.oid)
        .text("conname", |r| Some(r.name.clone()))
        .oid("connamespace", |r| r.namespace)
        .char("contype", |r| r.kind)
        .bool("condeferrable", |r| r.deferrable)
        .bool("condeferred", |r| r.deferred)
        .bool("convalidated", |_| true)
        .oid("conrelid", |r| r.relid)
        .oid("contypid", |_| 0)
        .oid("conindid", |r| r.indid)
        .oid("conparentid", |_| 0)
        .oid("confrelid", |r| r.frelid)
        .char("confupdtype", |r| r.on_update)
        .char("confdeltype", |r| r.on_delete)
        .char("confmatchtype", |r| if r.kind == 'f' { 's' } else { ' ' })
        .bool("conislocal", |_| true)
        .i32("coninhcount", |_| 0)
        .bool("connoinherit", |r| r.kind != 'f')
        .i16_list("conkey", |r| Some(r.conkey.clone()))
        .i16_list("confkey", |r| r.confkey.clone())
        .oid_list("conpfeqop", |_| None)
        .oid_list("conppeqop", |_| None)
        .oid_list("conffeqop", |_| None)
        .i16_list("confdelsetcols", |_| None)
        .oid_list("conexclop", |_| None)
        .null_text("conbin")
        .finish()
}

pub fn pg_am() -> Result<RecordBatch> {
    let rows = access_methods();
    Table::new(&rows)
        .oid("oid", |r| r.0)
        .text("amname", |r| Some(r.1.to_string()))
        .oid("amhandler", |_| 0)
        .char("amtype", |r| r.2)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_method_oids_are_distinct() {
        let am = access_methods();
        let mut oids: Vec<u32> = am.iter().map(|a| a.0).collect();
        oids.sort();
        oids.dedup();
        assert_eq!(oids.len(), am.len());
        assert_eq!(am_oid("hnsw"), LANCE_AM_OID + 1);
        assert_eq!(am_oid("btree"), BTREE_AM_OID);
    }
}
