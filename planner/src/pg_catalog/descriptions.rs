//! `pg_description` and `pg_shdescription`: the comments `COMMENT ON` keeps on tables, views,
//! sequences, indexes, columns, constraints, schemas, databases and roles, with PostgreSQL's own comments on
//! the two extensions every QuartzDB has. `obj_description`, `col_description` and
//! `shobj_description` read the same rows.

use arrow::array::RecordBatch;
use datafusion::error::Result;
use quartzdb_storage::Catalog;

use super::builder::Table;
use super::relations::{indexes, namespace_oid, IndexRef};

/// OIDs of the system catalogs a description's `classoid` names.
pub const PG_CLASS: u32 = 1259;
pub const PG_NAMESPACE: u32 = 2615;
pub const PG_EXTENSION: u32 = 3079;
pub const PG_DATABASE: u32 = 1262;
pub const PG_AUTHID: u32 = 1260;
pub const PG_CONSTRAINT: u32 = 2606;

/// One comment: the object's OID, the catalog it lives in, the column number (0 for the
/// object itself) and the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub objoid: u32,
    pub classoid: u32,
    pub objsubid: i32,
    pub text: String,
}

/// The comments on a database's objects (what `pg_description` holds).
pub fn descriptions(catalog: &Catalog, database: &str) -> Vec<Description> {
    let mut out = vec![
        Description { objoid: 13_001, classoid: PG_EXTENSION, objsubid: 0, text: "PL/pgSQL procedural language".into() },
        Description { objoid: 16_391, classoid: PG_EXTENSION, objsubid: 0, text: "vector data type and ivfflat and hnsw access methods".into() },
    ];
    let Ok(db) = catalog.database(database) else { return out };
    let mut add = |objoid: u32, classoid: u32, objsubid: i32, text: &Option<String>| {
        if let Some(text) = text {
            out.push(Description { objoid, classoid, objsubid, text: text.clone() });
        }
    };
    for (name, s) in &db.schemas {
        add(namespace_oid(name, s.oid), PG_NAMESPACE, 0, &s.comment);
        for t in s.tables.values() {
            add(t.oid, PG_CLASS, 0, &t.comment);
            for (n, c) in t.columns.iter().enumerate() {
                add(t.oid, PG_CLASS, n as i32 + 1, &c.comment);
            }
            for i in indexes(t) {
                let comment = match i.source {
                    IndexRef::Key(c) => &c.index_comment,
                    IndexRef::Lance(l) => &l.comment,
                };
                add(i.oid, PG_CLASS, 0, comment);
            }
            let constraints = t.constraints.iter().map(|c| (c.oid, &c.comment));
            let keys = t.foreign_keys.iter().map(|f| (f.oid, &f.comment));
            for (oid, comment) in constraints.chain(keys).chain(t.checks.iter().map(|c| (c.oid, &c.comment))) {
                add(oid, PG_CONSTRAINT, 0, comment);
            }
        }
        for v in s.views.values() {
            add(v.oid, PG_CLASS, 0, &v.comment);
            for (n, text) in &v.column_comments {
                add(v.oid, PG_CLASS, *n as i32, &Some(text.clone()));
            }
        }
        for q in s.sequences.values() {
            add(q.oid, PG_CLASS, 0, &q.comment);
        }
    }
    out
}

/// The comments on shared objects, databases and roles (what `pg_shdescription` holds).
pub fn shared_descriptions(catalog: &Catalog) -> Vec<Description> {
    let databases = catalog.databases.values().filter_map(|d| Some((d.oid, PG_DATABASE, d.comment.clone()?)));
    let roles = super::global::roles(catalog).into_iter().filter_map(|(name, oid, _)| Some((oid, PG_AUTHID, catalog.roles.get(&name)?.comment.clone()?)));
    databases.chain(roles).map(|(objoid, classoid, text)| Description { objoid, classoid, objsubid: 0, text }).collect()
}

pub fn pg_description(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let rows = descriptions(catalog, database);
    Table::new(&rows)
        .oid("objoid", |r| r.objoid)
        .oid("classoid", |r| r.classoid)
        .i32("objsubid", |r| r.objsubid)
        .text("description", |r| Some(r.text.clone()))
        .finish()
}

pub fn pg_shdescription(catalog: &Catalog) -> Result<RecordBatch> {
    let rows = shared_descriptions(catalog);
    Table::new(&rows)
        .oid("objoid", |r| r.objoid)
        .oid("classoid", |r| r.classoid)
        .text("description", |r| Some(r.text.clone()))
        .finish()
}

/// The catalog OID a name given to `obj_description(oid, 'pg_class')` stands for.
pub fn catalog_oid(name: &str) -> Option<u32> {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    super::TABLES.iter().find(|t| t.0 == name).map(|t| t.1)
}
