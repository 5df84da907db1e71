//! `CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t [USING method] (col [opclass])
//! [WITH (...)]` and `DROP INDEX`.
//!
//! Vector columns take pgvector's `hnsw` and `ivfflat` and QuartzDB's own Lance methods; other
//! columns `btree` (the default) or `bitmap`. Lance's indexes cover one column: a scalar index
//! on several (`(a, b)`, as ORMs and migration tools create them) is built on its first and
//! serves lookups on it, as PostgreSQL's serves its leading column; the catalog shows all.
//! Unique, partial and expression indexes are refused (0A000) rather than half-built.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::ast::{BinaryOperator, CreateIndex, Expr as SqlExpr, IndexType, ObjectName, Value};
use quartzdb_storage::NewIndex;
use quartzdb_storage::index_spec::IndexMethod;

use crate::error::{Error, Result};
use crate::names;
use crate::output::{CommandTag, Output};
use crate::session::Session;
use quartzdb_storage::Txn;

pub async fn create(session: &mut Session, txn: &mut Txn, create: CreateIndex) -> Result<Output> {
    let index = new_index(&create)?;
    let table = session.qualify(&create.table_name)?;
    let storage = session.storage().clone();
    if storage.create_index(txn, session.database(), &table, index, create.if_not_exists, session.pid()).await?.is_none() {
        tracing::info!(table = %table, "index already exists, skipping");
    }
    Ok(Output::Command(CommandTag::new("CREATE INDEX")))
}

pub async fn drop(session: &mut Session, txn: &mut Txn, names: &[ObjectName], if_exists: bool) -> Result<Output> {
    let storage = session.storage().clone();
    let targets = names.iter().map(|n| session.qualify(n)).collect::<Result<Vec<_>>>()?;
    // PostgreSQL checks every name before dropping any.
    let catalog = txn.catalog();
    for t in &targets {
        if !if_exists && catalog.index(session.database(), &t.schema, &t.name)?.is_none() {
            return Err(quartzdb_storage::Error::UnknownIndex(t.name.clone()).into());
        }
    }
    for t in &targets {
        storage.drop_index(txn, session.database(), t, if_exists).await?;
    }
    Ok(Output::Command(CommandTag::new("DROP INDEX")))
}

/// Reads the index definition out of the statement.
fn new_index(create: &CreateIndex) -> Result<NewIndex> {
    if create.unique {
        return Err(Error::Unsupported("CREATE UNIQUE INDEX (use a UNIQUE constraint)".into()));
    }
    if create.predicate.is_some() {
        return Err(Error::Unsupported("partial indexes".into()));
    }
    if !create.include.is_empty() {
        return Err(Error::Unsupported("INCLUDE columns in indexes".into()));
    }
    let method = match &create.using {
        None | Some(IndexType::BTree) => IndexMethod::Btree,
        Some(IndexType::Custom(name)) => IndexMethod::from_name(&name.value)
            .ok_or_else(|| Error::UndefinedObject(format!("access method \"{}\" does not exist", name.value)))?,
        Some(other) => return Err(Error::Unsupported(format!("access method \"{}\"", other.to_string().to_ascii_lowercase()))),
    };
    let Some(column) = create.columns.first() else {
        return Err(Error::Syntax("an index needs a column".into()));
    };
    let mut columns = Vec::with_capacity(create.columns.len());
    for c in &create.columns {
        let SqlExpr::Identifier(ident) = &c.column.expr else {
            return Err(Error::Unsupported("indexes on expressions".into()));
        };
        columns.push(names::ident(ident));
    }
    let name = match &create.name {
        Some(n) => Some(names::ident(n.0.last().and_then(|p| p.as_ident()).ok_or_else(|| Error::Syntax("invalid index name".into()))?)),
        None => None,
    };
    let opclass = column.operator_class.as_ref().map(|o| o.0.last().and_then(|p| p.as_ident()).map(names::ident).unwrap_or_else(|| o.to_string()));
    let more_columns = columns.split_off(1);
    Ok(NewIndex { name, column: columns.remove(0), more_columns, method, opclass, options: options(&create.with)? })
}

/// `WITH (m = 16, ef_construction = 64)`: integer options by lower-case name.
fn options(with: &[SqlExpr]) -> Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for e in with {
        let SqlExpr::BinaryOp { left, op: BinaryOperator::Eq, right } = e else {
            return Err(Error::Syntax(format!("invalid index option \"{e}\"")));
        };
        let SqlExpr::Identifier(name) = left.as_ref() else {
            return Err(Error::Syntax(format!("invalid index option \"{e}\"")));
        };
        let name = name.value.to_ascii_lowercase();
        let text = match right.as_ref() {
            SqlExpr::Value(v) => match &v.value {
                Value::Number(n, _) => n.clone(),
                Value::SingleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            other => other.to_string(),
        };
        let value = text.trim().parse::<i64>().map_err(|_| Error::InvalidParameter(format!("invalid value for integer option \"{name}\": {text}")))?;
        out.insert(name, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::ast::Statement;

    use super::*;

    fn parse(sql: &str) -> Result<NewIndex> {
        let Statement::CreateIndex(c) = quartzdb_sql::parse(sql).unwrap().remove(0) else { panic!("not CREATE INDEX") };
        new_index(&c)
    }

    #[test]
    fn reads_pgvector_index_definitions() {
        let i = parse("CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)").unwrap();
        assert_eq!(i.method, IndexMethod::Hnsw);
        assert_eq!(i.column, "embedding");
        assert_eq!(i.opclass.as_deref(), Some("vector_cosine_ops"));
        assert_eq!(i.options.get("ef_construction"), Some(&64));
        let i = parse("CREATE INDEX idx ON docs USING ivfflat (embedding) WITH (lists = 100)").unwrap();
        assert_eq!((i.name.as_deref(), i.method, i.opclass), (Some("idx"), IndexMethod::Ivfflat, None));
        assert_eq!(parse("CREATE INDEX ON docs (category)").unwrap().method, IndexMethod::Btree);
    }

    #[test]
    fn refuses_what_it_cannot_build() {
        assert!(matches!(parse("CREATE INDEX ON docs USING nope (a)"), Err(Error::UndefinedObject(_))));
        let two = parse("CREATE INDEX ON docs (a, b)").unwrap();
        assert_eq!((two.column.as_str(), two.more_columns), ("a", vec!["b".to_string()]));
        assert!(matches!(parse("CREATE INDEX ON docs ((a + 1))"), Err(Error::Unsupported(_))));
        assert!(matches!(parse("CREATE UNIQUE INDEX ON docs (a)"), Err(Error::Unsupported(_))));
        assert!(matches!(parse("CREATE INDEX ON docs (a) WHERE a > 1"), Err(Error::Unsupported(_))));
        assert!(matches!(parse("CREATE INDEX ON docs USING hnsw (e) WITH (m = 'x')"), Err(Error::InvalidParameter(_))));
    }
}
