//! Index definitions as PostgreSQL prints them, for the `pg_indexes` view and `pg_get_indexdef`
//! (`CREATE INDEX docs_embedding_idx ON public.docs USING hnsw (embedding vector_l2_ops) WITH (m='16')`).

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use datafusion::error::Result;
use quartzdb_storage::{Catalog, IndexMeta};

use crate::names::quote_ident as ident;

/// The definition `pg_get_indexdef` and `pg_indexes.indexdef` show.
pub fn indexdef(schema: &str, table: &str, index: &IndexMeta) -> String {
    let opclass = index.opclass.as_ref().filter(|_| index.method.is_vector()).map(|o| format!(" {o}")).unwrap_or_default();
    let mut def = format!(
        "CREATE INDEX {} ON {}.{} USING {} ({}{opclass})",
        ident(&index.name),
        ident(schema),
        ident(table),
        index.method.name(),
        index.columns().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
    );
    if !index.options.is_empty() {
        let options: Vec<String> = index.options.iter().map(|(k, v)| format!("{k}='{v}'")).collect();
        def.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    def
}

/// `pg_indexes` rows of a database: schemaname, tablename, indexname, tablespace, indexdef.
pub fn pg_indexes(catalog: &Catalog, database: &str) -> Result<arrow::array::RecordBatch> {
    let mut rows: Vec<[Option<String>; 5]> = Vec::new();
    if let Ok(db) = catalog.database(database) {
        for (schema, s) in &db.schemas {
            for (table, t) in &s.tables {
                for c in &t.constraints {
                    rows.push([Some(schema.clone()), Some(table.clone()), Some(c.name.clone()), None, Some(super::relations::key_indexdef(schema, table, c))]);
                }
                for i in &t.indexes {
                    rows.push([Some(schema.clone()), Some(table.clone()), Some(i.name.clone()), None, Some(indexdef(schema, table, i))]);
                }
            }
        }
    }
    let column = |n: usize| Arc::new(rows.iter().map(|r| r[n].clone()).collect::<StringArray>()) as ArrayRef;
    super::batch(vec![
        ("schemaname", column(0)),
        ("tablename", column(1)),
        ("indexname", column(2)),
        ("tablespace", column(3)),
        ("indexdef", column(4)),
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use quartzdb_storage::index_spec::{IndexMethod, Metric};

    use super::*;

    #[test]
    fn definitions_print_like_postgres() {
        let index = IndexMeta {
            oid: 1,
            name: "docs_embedding_idx".into(),
            column: "embedding".into(),
            more_columns: vec![],
            method: IndexMethod::Hnsw,
            opclass: Some("vector_cosine_ops".into()),
            metric: Some(Metric::Cosine),
            options: BTreeMap::from([("ef_construction".to_string(), 64), ("m".to_string(), 16)]),
            lance_name: "x".into(),
            comment: None,
        };
        assert_eq!(
            indexdef("public", "docs", &index),
            "CREATE INDEX docs_embedding_idx ON public.docs USING hnsw (embedding vector_cosine_ops) WITH (ef_construction='64', m='16')"
        );
        let btree = IndexMeta { method: IndexMethod::Btree, opclass: None, metric: None, options: BTreeMap::new(), column: "Tag".into(), ..index };
        assert_eq!(indexdef("public", "docs", &btree), "CREATE INDEX docs_embedding_idx ON public.docs USING btree (\"Tag\")");
        let two = IndexMeta { more_columns: vec!["b".into()], ..btree };
        assert_eq!(indexdef("public", "docs", &two), "CREATE INDEX docs_embedding_idx ON public.docs USING btree (\"Tag\", b)");
    }
}
