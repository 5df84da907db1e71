//! The rows of `pg_type`: PostgreSQL's built-in types (the list the `postgres-types` crate
//! carries, the same one the wire layer uses) plus pgvector's `vector` in schema `public`, and
//! the name ↔ OID resolution behind `to_regtype`, `::regtype` and `format_type`.

use postgres_types::{Kind, Type};

use crate::vector::{HALFVEC, HALFVEC_ARRAY_OID, HALFVEC_OID, SPARSEVEC_ARRAY_OID, SPARSEVEC_OID, VECTOR, VECTOR_ARRAY_OID, VECTOR_OID};

/// `pg_catalog`'s and `public`'s namespace OIDs, as in PostgreSQL.
pub const PG_CATALOG_OID: u32 = 11;
pub const PUBLIC_OID: u32 = 2200;

/// One row of `pg_type`.
#[derive(Debug, Clone)]
pub struct TypeRow {
    pub oid: u32,
    pub name: String,
    pub namespace: u32,
    pub len: i16,
    /// `b` base, `p` pseudo, `r` range, `m` multirange, `d` domain, `c` composite, `e` enum.
    pub kind: char,
    pub category: char,
    /// The element type of an array type, else 0.
    pub elem: u32,
    /// The array type of this type, else 0.
    pub array: u32,
}

/// Every type (built once: the list does not change while the server runs).
pub fn types() -> &'static [TypeRow] {
    static TYPES: std::sync::OnceLock<Vec<TypeRow>> = std::sync::OnceLock::new();
    TYPES.get_or_init(all)
}

/// Every type, built-in ones first.
fn all() -> Vec<TypeRow> {
    let builtin: Vec<Type> = (1..10_000).filter_map(Type::from_oid).collect();
    let mut rows: Vec<TypeRow> = builtin
        .iter()
        .map(|t| {
            let elem = match t.kind() {
                Kind::Array(e) => e.oid(),
                _ => 0,
            };
            let array = builtin.iter().find(|a| matches!(a.kind(), Kind::Array(e) if e.oid() == t.oid())).map_or(0, |a| a.oid());
            TypeRow {
                oid: t.oid(),
                name: t.name().to_string(),
                namespace: PG_CATALOG_OID,
                len: fixed_len(t.name()),
                kind: match t.kind() {
                    Kind::Pseudo => 'p',
                    Kind::Range(_) => 'r',
                    Kind::Multirange(_) => 'm',
                    Kind::Domain(_) => 'd',
                    Kind::Composite(_) => 'c',
                    Kind::Enum(_) => 'e',
                    _ => 'b',
                },
                category: category(t),
                elem,
                array,
            }
        })
        .collect();
    let vector = |oid, name: &str, elem, array, category| TypeRow { oid, name: name.into(), namespace: PUBLIC_OID, len: -1, kind: 'b', category, elem, array };
    rows.push(vector(VECTOR_OID, VECTOR, 0, VECTOR_ARRAY_OID, 'U'));
    rows.push(vector(VECTOR_ARRAY_OID, "_vector", VECTOR_OID, 0, 'A'));
    rows.push(vector(HALFVEC_OID, HALFVEC, 0, HALFVEC_ARRAY_OID, 'U'));
    rows.push(vector(HALFVEC_ARRAY_OID, "_halfvec", HALFVEC_OID, 0, 'A'));
    rows.push(vector(SPARSEVEC_OID, "sparsevec", 0, SPARSEVEC_ARRAY_OID, 'U'));
    rows.push(vector(SPARSEVEC_ARRAY_OID, "_sparsevec", SPARSEVEC_OID, 0, 'A'));
    rows
}

/// A type's input/output functions and storage, as `pg_type` lists them (`type_io.txt`, taken
/// from PostgreSQL 15 and pgvector); `-` is PostgreSQL's "no function".
#[derive(Debug)]
pub struct TypeIo {
    pub input: &'static str,
    pub output: &'static str,
    pub receive: &'static str,
    pub send: &'static str,
    pub modifier_in: &'static str,
    pub modifier_out: &'static str,
    pub analyze: &'static str,
    pub align: &'static str,
    pub storage: &'static str,
    pub subscript: &'static str,
    pub by_value: bool,
    pub preferred: bool,
}

/// The functions and storage of the type named `name`.
pub fn io(name: &str) -> Option<&'static TypeIo> {
    static IO: std::sync::OnceLock<std::collections::HashMap<&'static str, TypeIo>> = std::sync::OnceLock::new();
    IO.get_or_init(|| {
        include_str!("type_io.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let f: Vec<&'static str> = l.split(' ').collect();
                let [name, input, output, receive, send, modifier_in, modifier_out, analyze, align, storage, subscript, by_value, preferred] = f[..] else { return None };
                let (by_value, preferred) = (by_value == "t", preferred == "t");
                Some((name, TypeIo { input, output, receive, send, modifier_in, modifier_out, analyze, align, storage, subscript, by_value, preferred }))
            })
            .collect()
    })
    .get(name)
}

fn fixed_len(name: &str) -> i16 {
    match name {
        "bool" | "char" => 1,
        "int2" => 2,
        "int4" | "float4" | "oid" | "date" | "regtype" | "regclass" | "regproc" | "xid" | "cid" => 4,
        "int8" | "float8" | "timestamp" | "timestamptz" | "time" | "money" => 8,
        "uuid" | "interval" => 16,
        "name" => 64,
        _ => -1,
    }
}

fn category(t: &Type) -> char {
    if matches!(t.kind(), Kind::Array(_)) {
        return 'A';
    }
    match t.name() {
        "bool" => 'B',
        "int2" | "int4" | "int8" | "float4" | "float8" | "numeric" | "oid" | "money" => 'N',
        "text" | "varchar" | "bpchar" | "name" | "char" => 'S',
        "date" | "time" | "timestamp" | "timestamptz" | "timetz" => 'D',
        "interval" => 'T',
        "bit" | "varbit" => 'V',
        _ if matches!(t.kind(), Kind::Pseudo) => 'P',
        _ => 'U',
    }
}

/// The SQL name `format_type` and `::regtype` print for a type name (`int4` → `integer`).
pub fn sql_name(name: &str) -> String {
    if let Some(elem) = name.strip_prefix('_') {
        return format!("{}[]", sql_name(elem));
    }
    match name {
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "bool" => "boolean",
        "varchar" => "character varying",
        "bpchar" => "character",
        "varbit" => "bit varying",
        "timestamp" => "timestamp without time zone",
        "timestamptz" => "timestamp with time zone",
        "time" => "time without time zone",
        "timetz" => "time with time zone",
        other => other,
    }
    .to_string()
}

/// `format_type(oid, typmod)`: `vector(3)`, `character varying(10)`, `numeric(10,2)`.
pub fn format_type(types: &[TypeRow], oid: u32, typmod: Option<i32>) -> Option<String> {
    let row = types.iter().find(|t| t.oid == oid)?;
    let base = sql_name(&row.name);
    let Some(m) = typmod.filter(|m| *m >= 0) else { return Some(base) };
    Some(match row.name.as_str() {
        "vector" | "halfvec" | "sparsevec" => format!("{base}({m})"),
        "varchar" | "bpchar" if m >= 4 => format!("{base}({})", m - 4),
        "numeric" if m >= 4 => format!("numeric({},{})", (m - 4) >> 16, (m - 4) & 0xffff),
        _ => base,
    })
}

/// Resolves a type name as `to_regtype` does: SQL spellings (`integer`, `double precision`,
/// `character varying(10)`), internal names (`int4`), `[]` for arrays, `public.` / `pg_catalog.`.
pub fn resolve(types: &[TypeRow], text: &str) -> Option<u32> {
    let mut name = text.trim().to_ascii_lowercase();
    let array = name.ends_with("[]");
    if array {
        name.truncate(name.len() - 2);
    }
    if let Some(open) = name.find('(') {
        name.truncate(open);
    }
    let name = name.trim().trim_matches('"');
    let (schema, name) = match name.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, name),
    };
    let internal = match name {
        "integer" | "int" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" | "float" => "float8",
        "boolean" => "bool",
        "character varying" => "varchar",
        "character" => "bpchar",
        "decimal" => "numeric",
        "bit varying" => "varbit",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "time with time zone" => "timetz",
        other => other,
    };
    let row = types.iter().find(|t| {
        t.name == internal
            && match schema {
                None => true,
                Some("pg_catalog") => t.namespace == PG_CATALOG_OID,
                Some("public") => t.namespace == PUBLIC_OID,
                Some(_) => false,
            }
    })?;
    if array { (row.array != 0).then_some(row.array) } else { Some(row.oid) }
}

/// The type modifier PostgreSQL stores for a declared type (`atttypmod`): the dimension of a
/// vector, length + 4 of `varchar(n)`/`char(n)`, `(p << 16 | s) + 4` of `numeric(p,s)`; -1 without one.
pub fn typmod(declared: &str) -> i32 {
    let Some((base, rest)) = declared.split_once('(') else { return -1 };
    if declared.ends_with("[]") {
        return -1;
    }
    let args: Vec<i32> = rest.trim_end_matches(')').split(',').filter_map(|a| a.trim().parse().ok()).collect();
    match (base.trim(), args.as_slice()) {
        ("vector" | "halfvec" | "sparsevec" | "bit" | "bit varying", [n]) => *n,
        ("character varying" | "character" | "varchar" | "char", [n]) => n + 4,
        ("numeric" | "decimal", [p]) => (p << 16) + 4,
        ("numeric" | "decimal", [p, s]) => ((p << 16) | s) + 4,
        ("timestamp" | "timestamptz" | "time", [p]) => *p,
        _ => -1,
    }
}

/// Whether values of the type have a collation (`attcollation` is `default` for them).
pub fn is_collatable(oid: u32) -> bool {
    types().iter().any(|t| t.oid == oid && t.category == 'S')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_functions() {
        for t in types() {
            assert!(io(&t.name).is_some(), "{} has no row in type_io.txt", t.name);
        }
        let int4 = io("int4").unwrap();
        assert_eq!((int4.input, int4.send, int4.align, int4.by_value), ("int4in", "int4send", "i", true));
        assert_eq!(io("_vector").unwrap().input, "array_in");
    }

    #[test]
    fn resolves_names_as_to_regtype_does() {
        let types = types();
        assert_eq!(resolve(types, "vector"), Some(VECTOR_OID));
        assert_eq!(resolve(types, "public.vector"), Some(VECTOR_OID));
        assert_eq!(resolve(types, "_vector"), Some(VECTOR_ARRAY_OID));
        assert_eq!(resolve(types, "integer"), Some(23));
        assert_eq!(resolve(types, "double precision[]"), Some(1022));
        assert_eq!(resolve(types, "bit"), Some(1560));
        assert_eq!(resolve(types, "hstore"), None);
        assert_eq!(format_type(types, VECTOR_OID, Some(3)).as_deref(), Some("vector(3)"));
        assert_eq!(format_type(types, 1043, Some(14)).as_deref(), Some("character varying(10)"));
        assert_eq!(format_type(types, 1007, None).as_deref(), Some("integer[]"));
    }

    #[test]
    fn type_modifiers_round_trip_through_format_type() {
        let t = types();
        for declared in ["vector(3)", "character varying(20)", "numeric(10,2)", "character(1)"] {
            let oid = resolve(t, declared).unwrap();
            assert_eq!(format_type(t, oid, Some(typmod(declared))).as_deref(), Some(declared));
        }
        assert_eq!(typmod("bigint"), -1);
        assert_eq!(typmod("integer[]"), -1);
    }
}
