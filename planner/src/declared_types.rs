//! Result columns that are a table's column say so, as PostgreSQL's RowDescription does: the
//! table's OID and the column's number (JDBC's `ResultSetMetaData` reads them for
//! `getBaseTableName`, `isNullable` and `isAutoIncrement`; DBeaver to edit a result's rows),
//! and the declared type with its modifier: a `varchar(100)` column is stored as Arrow Utf8 and a
//! `numeric(10,2)` as Decimal128, which the wire layer would describe as `text` and plain
//! `numeric`, while clients read the modifier (psycopg's `cursor.description`, from which
//! Django's `inspectdb` writes `CharField(max_length=100)`).
//!
//! The top projection's columns are traced down to table scans (through projections of plain
//! columns, filters, sorts, limits, aliases, joins and grouping columns); a traced column gets an alias carrying
//! [`crate::types::PG_SOURCE_METADATA`] and, for `character varying(n)`, `character(n)` and
//! `numeric(p,s)`, the type under [`crate::types::PG_TYPE_METADATA`].

use datafusion::common::metadata::FieldMetadata;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{Distinct, Expr, JoinType, LogicalPlan, Projection};
use quartzdb_storage::{Catalog, LanceTable, TableMeta};

/// The catalog's tables by OID, gathered on first use (once per statement, not per column).
struct Tables<'a> {
    catalog: &'a Catalog,
    by_oid: std::cell::OnceCell<std::collections::HashMap<u32, &'a TableMeta>>,
}

impl<'a> Tables<'a> {
    fn get(&self, oid: u32) -> Option<&'a TableMeta> {
        self.by_oid.get_or_init(|| self.catalog.table_dirs().map(|t| (t.oid, t)).collect()).get(&oid).copied()
    }
}

use crate::types::{PG_SOURCE_METADATA, PG_TYPE_METADATA};

/// `plan` with its output columns marked with the table column each one is (its OID and
/// number, which RowDescription reports) and, where it has a modifier, its declared type.
pub fn mark(plan: LogicalPlan, catalog: &Catalog) -> LogicalPlan {
    mark_with(plan, &Tables { catalog, by_oid: Default::default() })
}

fn mark_with(plan: LogicalPlan, catalog: &Tables) -> LogicalPlan {
    match plan {
        LogicalPlan::Projection(p) => {
            let mut changed = false;
            let exprs: Vec<Expr> = p
                .expr
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let (qualifier, field) = p.schema.qualified_field(i);
                    let source = match e.clone().unalias() {
                        Expr::Column(c) => p.input.schema().index_of_column(&c).ok().and_then(|at| source(&p.input, at, catalog)),
                        _ => None,
                    };
                    let Some(source) = source.filter(|_| !field.metadata().contains_key(PG_SOURCE_METADATA)) else { return e.clone() };
                    changed = true;
                    let mut metadata = field.metadata().clone();
                    metadata.insert(PG_SOURCE_METADATA.to_string(), format!("{}.{}", source.table, source.number));
                    if let Some(t) = source.modified_type.filter(|_| !field.metadata().contains_key(PG_TYPE_METADATA)) {
                        metadata.insert(PG_TYPE_METADATA.to_string(), t);
                    }
                    e.clone().unalias().alias_qualified_with_metadata(qualifier.cloned(), field.name(), Some(FieldMetadata::from(metadata)))
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
            plan.map_children(|input| Ok(Transformed::yes(mark_with(input, catalog)))).map(|t| t.data).unwrap_or(original)
        }
        other => other,
    }
}

/// The table column a result column is.
struct Source {
    table: u32,
    /// Its `attnum`.
    number: usize,
    /// Its declared type, when that has a modifier (`character varying(n)`, `character(n)`,
    /// `numeric(p,s)`).
    modified_type: Option<String>,
}

/// The table column that column `at` of `node` is.
fn source(node: &LogicalPlan, at: usize, catalog: &Tables) -> Option<Source> {
    match node {
        LogicalPlan::TableScan(scan) => {
            let provider = source_as_provider(&scan.source).ok()?;
            let table = provider.downcast_ref::<LanceTable>()?;
            let name = scan.projected_schema.field(at).name();
            let meta = catalog.get(table.table_oid())?;
            let (n, column) = meta.columns.iter().enumerate().find(|(_, c)| &c.name == name)?;
            let type_name = &column.type_name;
            let has_modifier = type_name.ends_with(')') && ["character varying(", "character(", "numeric("].iter().any(|p| type_name.starts_with(p));
            Some(Source { table: meta.oid, number: n + 1, modified_type: has_modifier.then(|| type_name.clone()) })
        }
        LogicalPlan::Projection(p) => match p.expr.get(at)?.clone().unalias() {
            Expr::Column(c) => source(&p.input, p.input.schema().index_of_column(&c).ok()?, catalog),
            _ => None,
        },
        LogicalPlan::Filter(_) | LogicalPlan::Sort(_) | LogicalPlan::Limit(_) | LogicalPlan::SubqueryAlias(_) | LogicalPlan::Distinct(Distinct::All(_)) => source(node.inputs()[0], at, catalog),
        // DISTINCT ON's columns are its SELECT list's, over the plan before that list.
        LogicalPlan::Distinct(Distinct::On(on)) => match on.select_expr.get(at)?.clone().unalias() {
            Expr::Column(c) => source(&on.input, on.input.schema().index_of_column(&c).ok()?, catalog),
            _ => None,
        },
        // A grouping column (`SELECT code FROM t GROUP BY code`: Metabase's field values).
        LogicalPlan::Aggregate(a) => match a.group_expr.get(at)?.clone().unalias() {
            Expr::Column(c) => source(&a.input, a.input.schema().index_of_column(&c).ok()?, catalog),
            _ => None,
        },
        LogicalPlan::Join(j) => {
            let left = j.left.schema().fields().len();
            match j.join_type {
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full if at < left => source(&j.left, at, catalog),
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => source(&j.right, at - left, catalog),
                JoinType::LeftSemi | JoinType::LeftAnti => source(&j.left, at, catalog),
                JoinType::RightSemi | JoinType::RightAnti => source(&j.right, at, catalog),
                _ => None,
            }
        }
        _ => None,
    }
}
