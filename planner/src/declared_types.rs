//! Result columns that are a table's column keep its declared type: a `varchar(100)` column
//! is stored as Arrow Utf8 and a `numeric(10,2)` as Decimal128, which the wire layer would
//! describe as `text` and plain `numeric`. PostgreSQL's RowDescription carries the declared
//! type and its modifier, which clients read: psycopg's `cursor.description` (Django's
//! `inspectdb` writes `CharField(max_length=100)` from it), JDBC's `ResultSetMetaData`.
//!
//! The top projection's columns are traced down to table scans (through projections of plain
//! columns, filters, sorts, limits, aliases and joins); a traced column whose declared type has
//! a modifier (`character varying(n)`, `character(n)`, `numeric(p,s)`) gets an alias carrying
//! the type in its field metadata, which [`crate::types::PG_TYPE_METADATA`] names.

use datafusion::common::metadata::FieldMetadata;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan, Projection};
use quartzdb_storage::{Catalog, LanceTable};

use crate::types::PG_TYPE_METADATA;

/// `plan` with its output columns marked with their declared types, where they have modifiers.
pub fn mark(plan: LogicalPlan, catalog: &Catalog) -> LogicalPlan {
    match plan {
        LogicalPlan::Projection(p) => {
            let mut changed = false;
            let exprs: Vec<Expr> = p
                .expr
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let (qualifier, field) = p.schema.qualified_field(i);
                    let declared = match e.clone().unalias() {
                        Expr::Column(c) => p.input.schema().index_of_column(&c).ok().and_then(|at| declared_type(&p.input, at, catalog)),
                        _ => None,
                    };
                    match declared {
                        Some(t) if !field.metadata().contains_key(PG_TYPE_METADATA) => {
                            changed = true;
                            let metadata = FieldMetadata::from(std::collections::HashMap::from([(PG_TYPE_METADATA.to_string(), t)]));
                            e.clone().unalias().alias_qualified_with_metadata(qualifier.cloned(), field.name(), Some(metadata))
                        }
                        _ => e.clone(),
                    }
                })
                .collect();
            if !changed {
                return LogicalPlan::Projection(p);
            }
            match Projection::try_new(exprs, p.input.clone()) {
                Ok(marked) => LogicalPlan::Projection(marked),
                Err(_) => LogicalPlan::Projection(p),
            }
        }
        // Nodes that pass their input's columns through: mark below them.
        LogicalPlan::Limit(_) | LogicalPlan::Sort(_) => {
            use datafusion::common::tree_node::{Transformed, TreeNode};
            let original = plan.clone();
            plan.map_children(|input| Ok(Transformed::yes(mark(input, catalog)))).map(|t| t.data).unwrap_or(original)
        }
        other => other,
    }
}

/// The declared type (with a modifier) of the table column that column `at` of `node` is.
fn declared_type(node: &LogicalPlan, at: usize, catalog: &Catalog) -> Option<String> {
    match node {
        LogicalPlan::TableScan(scan) => {
            let provider = source_as_provider(&scan.source).ok()?;
            let table = provider.downcast_ref::<LanceTable>()?;
            let name = scan.projected_schema.field(at).name();
            let meta = catalog.table_dirs().find(|t| t.oid == table.table_oid())?;
            let type_name = &meta.columns.iter().find(|c| &c.name == name)?.type_name;
            let has_modifier = type_name.contains('(') && ["character varying(", "character(", "numeric("].iter().any(|p| type_name.starts_with(p));
            has_modifier.then(|| type_name.clone())
        }
        LogicalPlan::Projection(p) => match p.expr.get(at)?.clone().unalias() {
            Expr::Column(c) => declared_type(&p.input, p.input.schema().index_of_column(&c).ok()?, catalog),
            _ => None,
        },
        LogicalPlan::Filter(_) | LogicalPlan::Sort(_) | LogicalPlan::Limit(_) | LogicalPlan::SubqueryAlias(_) => declared_type(node.inputs()[0], at, catalog),
        LogicalPlan::Join(j) => {
            let left = j.left.schema().fields().len();
            match j.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full if at < left => declared_type(&j.left, at, catalog),
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => declared_type(&j.right, at - left, catalog),
                JoinType::LeftSemi | JoinType::LeftAnti => declared_type(&j.left, at, catalog),
                JoinType::RightSemi | JoinType::RightAnti => declared_type(&j.right, at, catalog),
                _ => None,
            }
        }
        _ => None,
    }
}
