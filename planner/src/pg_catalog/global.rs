//! Cluster-wide and descriptive catalogs: `pg_database`, `pg_roles` (and `pg_authid`,
//! `pg_user`), and the catalogs of features QuartzDB does not have, which
//! exist with PostgreSQL's columns and no rows so that client queries joining them still run
//! (psql's `\d` reads policies, publications, inheritance and extended statistics).

use arrow::array::RecordBatch;
use datafusion::error::Result;
use quartzdb_storage::Catalog;

use super::builder::Table;
use super::SUPERUSER_OID;

/// PostgreSQL's encoding number for UTF8 (`pg_encoding_to_char(6)`).
pub const UTF8_ENCODING: i32 = 6;

pub fn pg_database(catalog: &Catalog) -> Result<RecordBatch> {
    let rows: Vec<(&String, u32)> = catalog.databases.iter().map(|(n, d)| (n, d.oid)).collect();
    Table::new(&rows)
        .oid("oid", |r| r.1)
        .text("datname", |r| Some(r.0.clone()))
        .oid("datdba", |_| SUPERUSER_OID)
        .i32("encoding", |_| UTF8_ENCODING)
        .char("datlocprovider", |_| 'c')
        .bool("datistemplate", |_| false)
        .bool("datallowconn", |_| true)
        .i32("datconnlimit", |_| -1)
        .oid("datfrozenxid", |_| 0)
        .oid("datminmxid", |_| 1)
        .oid("dattablespace", |_| 1663)
        // Text compares bytewise, as PostgreSQL's "C" collation does.
        .text("datcollate", |_| Some("C".into()))
        .text("datctype", |_| Some("C".into()))
        .null_text("daticulocale")
        .null_text("datcollversion")
        .text_list("datacl", |_| None)
        .finish()
}

/// PostgreSQL's two tablespaces, which `pg_database.dattablespace` names (psql's `\l+` joins them).
pub fn pg_tablespace() -> Result<RecordBatch> {
    let rows = [(1663u32, "pg_default"), (1664, "pg_global")];
    Table::new(&rows)
        .oid("oid", |r| r.0)
        .text("spcname", |r| Some(r.1.to_string()))
        .oid("spcowner", |_| SUPERUSER_OID)
        .text_list("spcacl", |_| None)
        .text_list("spcoptions", |_| None)
        .finish()
}

/// Roles with the OIDs the catalogs show: the bootstrap superuser (the first role created) is
/// OID 10 as in PostgreSQL, the owner of every object.
pub fn roles(catalog: &Catalog) -> Vec<(String, u32, bool)> {
    let bootstrap = catalog.roles.values().filter(|r| r.superuser).map(|r| r.oid).min();
    catalog
        .roles
        .iter()
        .map(|(n, r)| (n.clone(), if Some(r.oid) == bootstrap { SUPERUSER_OID } else { r.oid }, r.superuser))
        .collect()
}

/// `pg_roles` and `pg_authid` (same columns here; the password is never shown).
pub fn pg_roles(catalog: &Catalog) -> Result<RecordBatch> {
    let rows = roles(catalog);
    Table::new(&rows)
        .oid("oid", |r| r.1)
        .text("rolname", |r| Some(r.0.clone()))
        .bool("rolsuper", |r| r.2)
        .bool("rolinherit", |_| true)
        .bool("rolcreaterole", |r| r.2)
        .bool("rolcreatedb", |r| r.2)
        .bool("rolcanlogin", |_| true)
        .bool("rolreplication", |r| r.2)
        .i32("rolconnlimit", |_| -1)
        .text("rolpassword", |_| Some("********".into()))
        .null_text("rolvaliduntil")
        .bool("rolbypassrls", |r| r.2)
        .text_list("rolconfig", |_| None)
        .finish()
}

pub fn pg_tables(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows: Vec<(String, String, bool)> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for (sname, s) in &db.schemas {
            rows.extend(s.tables.iter().map(|(t, m)| (sname.clone(), t.clone(), !m.indexes.is_empty() || !m.constraints.is_empty())));
        }
    }
    let owner = owner_name(catalog);
    Table::new(&rows)
        .text("schemaname", |r| Some(r.0.clone()))
        .text("tablename", |r| Some(r.1.clone()))
        .text("tableowner", |_| Some(owner.clone()))
        .null_text("tablespace")
        .bool("hasindexes", |r| r.2)
        .bool("hasrules", |_| false)
        .bool("hastriggers", |_| false)
        .bool("rowsecurity", |_| false)
        .finish()
}

pub fn pg_views(catalog: &Catalog, database: &str) -> Result<RecordBatch> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for (sname, s) in &db.schemas {
            rows.extend(s.views.iter().map(|(v, m)| (sname.clone(), v.clone(), m.query.clone())));
        }
    }
    let owner = owner_name(catalog);
    Table::new(&rows)
        .text("schemaname", |r| Some(r.0.clone()))
        .text("viewname", |r| Some(r.1.clone()))
        .text("viewowner", |_| Some(owner.clone()))
        .text("definition", |r| Some(r.2.clone()))
        .finish()
}

/// Every object belongs to the bootstrap superuser (QuartzDB has no per-object owners yet).
pub fn owner_name(catalog: &Catalog) -> String {
    roles(catalog).into_iter().find(|r| r.1 == SUPERUSER_OID).map_or_else(|| "quartz".to_string(), |r| r.0)
}

pub fn pg_user(catalog: &Catalog) -> Result<RecordBatch> {
    let rows = roles(catalog);
    Table::new(&rows)
        .text("usename", |r| Some(r.0.clone()))
        .oid("usesysid", |r| r.1)
        .bool("usecreatedb", |r| r.2)
        .bool("usesuper", |r| r.2)
        .bool("userepl", |r| r.2)
        .bool("usebypassrls", |r| r.2)
        .text("passwd", |_| Some("********".into()))
        .null_text("valuntil")
        .text_list("useconfig", |_| None)
        .finish()
}

/// An empty catalog with PostgreSQL's columns; `kind` letters: o oid, c "char", b bool,
/// s int2, i int4, t text, O oid[], S int2[], T text[].
pub fn empty(columns: &[(&str, char)]) -> Result<RecordBatch> {
    let mut t: Table<'_, ()> = Table::new(&[]);
    for (name, kind) in columns {
        t = match kind {
            'o' => t.oid(name, |_| 0),
            'c' => t.char(name, |_| ' '),
            'b' => t.bool(name, |_| false),
            's' => t.i16(name, |_| 0),
            'i' => t.i32(name, |_| 0),
            'O' => t.oid_list(name, |_| None),
            'S' => t.i16_list(name, |_| None),
            'T' => t.text_list(name, |_| None),
            _ => t.null_text(name),
        };
    }
    t.finish()
}

/// The catalogs that exist without rows, with the columns clients read.
pub fn empty_catalog(name: &str) -> Option<Result<RecordBatch>> {
    empty_catalog_columns(name).map(empty)
}

/// Whether `name` is a catalog QuartzDB has no rows for.
pub fn is_empty_catalog(name: &str) -> bool {
    empty_catalog_columns(name).is_some()
}

fn empty_catalog_columns(name: &str) -> Option<&'static [(&'static str, char)]> {
    let columns: &'static [(&'static str, char)] = match name {
        "pg_auth_members" => &[("oid", 'o'), ("roleid", 'o'), ("member", 'o'), ("grantor", 'o'), ("admin_option", 'b')],
        "pg_inherits" => &[("inhrelid", 'o'), ("inhparent", 'o'), ("inhseqno", 'i'), ("inhdetachpending", 'b')],
        "pg_policy" => &[
            ("oid", 'o'),
            ("polname", 't'),
            ("polrelid", 'o'),
            ("polcmd", 'c'),
            ("polpermissive", 'b'),
            ("polroles", 'O'),
            ("polqual", 't'),
            ("polwithcheck", 't'),
        ],
        "pg_statistic_ext" => &[
            ("oid", 'o'),
            ("stxrelid", 'o'),
            ("stxname", 't'),
            ("stxnamespace", 'o'),
            ("stxowner", 'o'),
            ("stxstattarget", 'i'),
            ("stxkeys", 'S'),
            ("stxkind", 'T'),
            ("stxexprs", 't'),
        ],
        "pg_publication" => &[
            ("oid", 'o'),
            ("pubname", 't'),
            ("pubowner", 'o'),
            ("puballtables", 'b'),
            ("pubinsert", 'b'),
            ("pubupdate", 'b'),
            ("pubdelete", 'b'),
            ("pubtruncate", 'b'),
            ("pubviaroot", 'b'),
        ],
        "pg_publication_namespace" => &[("oid", 'o'), ("pnpubid", 'o'), ("pnnspid", 'o')],
        "pg_publication_rel" => &[("oid", 'o'), ("prpubid", 'o'), ("prrelid", 'o'), ("prqual", 't'), ("prattrs", 'S')],
        "pg_trigger" => &[("oid", 'o'), ("tgrelid", 'o'), ("tgparentid", 'o'), ("tgname", 't'), ("tgfoid", 'o'), ("tgtype", 's'), ("tgenabled", 'c'), ("tgisinternal", 'b')],
        "pg_rewrite" => &[("oid", 'o'), ("rulename", 't'), ("ev_class", 'o'), ("ev_type", 'c'), ("ev_enabled", 'c'), ("is_instead", 'b')],
        "pg_collation" => &[("oid", 'o'), ("collname", 't'), ("collnamespace", 'o'), ("collowner", 'o'), ("collprovider", 'c'), ("collisdeterministic", 'b'), ("collencoding", 'i'), ("collcollate", 't'), ("collctype", 't')],
        "pg_opclass" => &[
            ("oid", 'o'),
            ("opcmethod", 'o'),
            ("opcname", 't'),
            ("opcnamespace", 'o'),
            ("opcowner", 'o'),
            ("opcfamily", 'o'),
            ("opcintype", 'o'),
            ("opcdefault", 'b'),
            ("opckeytype", 'o'),
        ],
        "pg_enum" => &[("oid", 'o'), ("enumtypid", 'o'), ("enumsortorder", 'i'), ("enumlabel", 't')],
        "pg_range" => &[("rngtypid", 'o'), ("rngsubtype", 'o'), ("rngmultitypid", 'o'), ("rngcollation", 'o'), ("rngsubopc", 'o'), ("rngcanonical", 'o'), ("rngsubdiff", 'o')],
        "pg_foreign_table" => &[("ftrelid", 'o'), ("ftserver", 'o'), ("ftoptions", 'T')],
        "pg_partitioned_table" => &[("partrelid", 'o'), ("partstrat", 'c'), ("partnatts", 's'), ("partdefid", 'o'), ("partattrs", 'S')],
        "pg_proc" => &[
            ("oid", 'o'),
            ("proname", 't'),
            ("pronamespace", 'o'),
            ("proowner", 'o'),
            ("prolang", 'o'),
            ("procost", 'i'),
            ("prorows", 'i'),
            ("provariadic", 'o'),
            ("prosupport", 'o'),
            ("prokind", 'c'),
            ("prosecdef", 'b'),
            ("proleakproof", 'b'),
            ("proisstrict", 'b'),
            ("proretset", 'b'),
            ("provolatile", 'c'),
            ("proparallel", 'c'),
            ("pronargs", 's'),
            ("pronargdefaults", 's'),
            ("prorettype", 'o'),
            ("proargtypes", 'O'),
            ("proallargtypes", 'O'),
            ("proargmodes", 'T'),
            ("proargnames", 'T'),
            ("proargdefaults", 't'),
            ("prosrc", 't'),
            ("probin", 't'),
            ("proconfig", 'T'),
            ("proacl", 'T'),
        ],
        "pg_language" => &[
            ("oid", 'o'),
            ("lanname", 't'),
            ("lanowner", 'o'),
            ("lanispl", 'b'),
            ("lanpltrusted", 'b'),
            ("lanplcallfoid", 'o'),
            ("laninline", 'o'),
            ("lanvalidator", 'o'),
            ("lanacl", 'T'),
        ],
        "pg_matviews" => &[("schemaname", 't'), ("matviewname", 't'), ("matviewowner", 't'), ("tablespace", 't'), ("hasindexes", 'b'), ("ispopulated", 'b'), ("definition", 't')],
        _ => return None,
    };
    Some(columns)
}
