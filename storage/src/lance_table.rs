//! A table as DataFusion sees it: Lance's table provider at the published version, with filter
//! pushdown made safe.
//!
//! Lance's provider claims every filter as `Exact` and translates it into its own scan filter.
//! QuartzDB offers only filters Lance evaluates like PostgreSQL does (comparisons of columns and
//! constants, AND/OR/NOT, IS NULL, IN lists, BETWEEN) and marks them `Inexact`, so DataFusion
//! re-checks them: a filter Lance reads differently can cost speed, never correctness.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use lance::dataset::Dataset;
use lance::datafusion::LanceTableProvider;

#[derive(Debug)]
pub struct LanceTable {
    inner: LanceTableProvider,
}

impl LanceTable {
    /// `with_row_addr` adds the `_rowaddr` column (last), which UPDATE and DELETE use to find rows.
    pub fn new(dataset: Arc<Dataset>, with_row_addr: bool) -> Self {
        Self { inner: LanceTableProvider::new(dataset, false, with_row_addr) }
    }
}

#[async_trait]
impl TableProvider for LanceTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(&self, state: &dyn Session, projection: Option<&Vec<usize>>, filters: &[Expr], limit: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| if pushable(f) { TableProviderFilterPushDown::Inexact } else { TableProviderFilterPushDown::Unsupported })
            .collect())
    }
}

/// True for filters built only from columns, literals and simple operators.
fn pushable(expr: &Expr) -> bool {
    let mut ok = true;
    let _ = expr.apply(|e| {
        ok &= matches!(
            e,
            Expr::Column(_)
                | Expr::Literal(..)
                | Expr::BinaryExpr(_)
                | Expr::Not(_)
                | Expr::IsNull(_)
                | Expr::IsNotNull(_)
                | Expr::Between(_)
                | Expr::InList(_)
        ) && !matches!(e, Expr::BinaryExpr(b) if !simple_operator(b.op));
        Ok(if ok { TreeNodeRecursion::Continue } else { TreeNodeRecursion::Stop })
    });
    ok
}

fn simple_operator(op: Operator) -> bool {
    use Operator::*;
    matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | And | Or)
}
