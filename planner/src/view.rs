//! Views: stored as SQL text and planned when a query names them.

use std::sync::{Arc, Mutex};

use datafusion::catalog::TableProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement;
use quartzdb_storage::ViewMeta;

use crate::catalog_provider::{CatalogSource, PlanningScope};
use crate::error::Error;

/// Views nested deeper than this are taken for a cycle.
const MAX_VIEW_DEPTH: usize = 32;

/// Plans a view's query in a fresh context over the same catalog, so it sees what the statement
/// naming it sees (its transaction's own changes included).
pub async fn view_provider(source: &CatalogSource, database: &str, _schema: &str, name: &str, view: &ViewMeta) -> DfResult<Arc<dyn TableProvider>> {
    let depth = source.scope().lock().expect("scope lock").view_depth + 1;
    // Views replaced to read each other (`CREATE OR REPLACE VIEW a AS SELECT * FROM b` where b
    // reads a) would expand forever; PostgreSQL reports the same.
    if depth > MAX_VIEW_DEPTH {
        return Err(Error::InvalidObjectDefinition(format!("infinite recursion detected in rules for relation \"{name}\"")).into());
    }
    let scope = PlanningScope { txn: source.txn(), view_depth: depth, ..Default::default() };
    let ctx = crate::session::build_context(source.storage(), database, "", 0, Arc::new(Mutex::new(scope)));
    let mut stmts = quartzdb_sql::parse(&view.query).map_err(Error::from)?;
    if stmts.len() != 1 {
        return Err(Error::Internal(format!("view {name} has an invalid stored query")).into());
    }
    let mut stmt = stmts.remove(0);
    // Named as when CREATE VIEW planned it (see `Session::plan_query`).
    if let Statement::Query(q) = &mut stmt {
        crate::names::name_all_output_columns(q);
        crate::names::type_select_literals(q);
    }
    let plan = ctx.state().statement_to_plan(DFStatement::Statement(Box::new(stmt))).await?;
    let plan = if view.columns.is_empty() {
        plan
    } else {
        let exprs = plan
            .schema()
            .columns()
            .into_iter()
            .zip(&view.columns)
            .map(|(c, alias)| datafusion::logical_expr::col(c).alias(alias))
            .collect::<Vec<_>>();
        LogicalPlanBuilder::from(plan).project(exprs)?.build()?
    };
    Ok(Arc::new(ViewTable::new(plan, Some(view.query.clone()))))
}
