//! Subqueries over catalogs QuartzDB has no rows for, answered before planning.
//!
//! psql's `\d table` asks for each column's collation with a correlated subquery that joins
//! `pg_collation` and compares an outer column by `<>`, a form DataFusion cannot decorrelate.
//! QuartzDB has no collations (nor triggers, policies, inheritance, …: see
//! [`super::global::is_empty_catalog`]), so any such subquery that inner-joins one of those
//! catalogs has no rows, whatever its correlation: a scalar subquery is NULL, `EXISTS` false and
//! `IN` false. Subqueries that aggregate (`SELECT count(*) FROM pg_trigger …` is 0, not NULL) or
//! reach the empty catalog only through an outer join are left to the planner. A query over such
//! a catalog returns no rows, so the subqueries in its own SELECT list and WHERE are never
//! evaluated: they become NULL too (psql's `\d` asks `pg_policy` with one DataFusion cannot
//! plan).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, JoinOperator, Query, Select, SelectItem, SetExpr, Statement, TableFactor, Value, Visit, VisitMut, Visitor, VisitorMut, visit_expressions_mut};

use super::global::is_empty_catalog;

const AGGREGATES: &[&str] = &[
    "count", "sum", "min", "max", "avg", "array_agg", "string_agg", "bool_and", "bool_or", "every", "json_agg", "jsonb_agg",
    "json_object_agg", "jsonb_object_agg", "bit_and", "bit_or", "stddev", "variance",
];

/// Replaces subqueries that can have no rows with their value.
pub fn rewrite(stmt: &mut Statement) {
    let _ = stmt.visit(&mut RowlessQueries);
    let _ = visit_expressions_mut(stmt, |e| {
        let replacement = match e {
            Expr::Subquery(q) if has_no_rows(q) => Some(Expr::Value(Value::Null.into())),
            Expr::Exists { subquery, negated } if has_no_rows(subquery) => Some(Expr::Value(Value::Boolean(*negated).into())),
            Expr::InSubquery { subquery, negated, .. } if has_no_rows(subquery) => Some(Expr::Value(Value::Boolean(*negated).into())),
            _ => None,
        };
        if let Some(r) = replacement {
            *e = r;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// In a query with no rows, the subqueries of its SELECT list and WHERE become NULL.
struct RowlessQueries;

impl VisitorMut for RowlessQueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        rowless_selects(query.body.as_mut());
        ControlFlow::Continue(())
    }
}

/// Each `SELECT` of a set expression (the branches of a UNION too) that has no rows.
fn rowless_selects(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) if select_has_no_rows(select) => {
            let never_evaluated = |e: &mut Expr| {
                let _ = visit_expressions_mut(e, |e| {
                    if matches!(e, Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. }) {
                        *e = Expr::Value(Value::Null.into());
                    }
                    ControlFlow::<()>::Continue(())
                });
            };
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                    never_evaluated(e);
                }
            }
            if let Some(e) = &mut select.selection {
                never_evaluated(e);
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            rowless_selects(left);
            rowless_selects(right);
        }
        _ => {}
    }
}

/// A plain `SELECT` (no aggregate, no set operation) whose inner joins include an empty catalog.
fn has_no_rows(q: &Query) -> bool {
    matches!(q.body.as_ref(), SetExpr::Select(select) if select_has_no_rows(select))
}

fn select_has_no_rows(select: &Select) -> bool {
    if select.having.is_some() || !matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(g, _) if g.is_empty()) {
        return false;
    }
    if select.projection.iter().any(aggregates) {
        return false;
    }
    select.from.iter().any(|t| {
        empty_table(&t.relation)
            || t.joins.iter().any(|j| matches!(j.join_operator, JoinOperator::Inner(_) | JoinOperator::Join(_) | JoinOperator::CrossJoin(_)) && empty_table(&j.relation))
    })
}

fn empty_table(factor: &TableFactor) -> bool {
    let TableFactor::Table { name, .. } = factor else { return false };
    let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.to_ascii_lowercase())).collect();
    match parts.as_slice() {
        [table] => is_empty_catalog(table),
        [schema, table] => schema == "pg_catalog" && is_empty_catalog(table),
        _ => false,
    }
}

fn aggregates(item: &SelectItem) -> bool {
    let expr = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return false,
    };
    let mut finder = FindAggregate { depth: 0, found: false };
    let _ = expr.visit(&mut finder);
    finder.found
}

/// Finds an aggregate or window call outside nested subqueries.
struct FindAggregate {
    depth: usize,
    found: bool,
}

impl Visitor for FindAggregate {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.depth == 0
            && let Expr::Function(f) = e
        {
            let name = f.name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase()).unwrap_or_default();
            self.found |= AGGREGATES.contains(&name.as_str()) || f.over.is_some();
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut stmt = quartzdb_sql::parse(sql).unwrap().remove(0);
        rewrite(&mut stmt);
        stmt.to_string()
    }

    #[test]
    fn only_rowless_subqueries_are_answered() {
        assert_eq!(
            rewritten("SELECT a.attname, (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t WHERE c.oid = a.attcollation AND a.attcollation <> t.typcollation) FROM pg_attribute a"),
            "SELECT a.attname, NULL FROM pg_attribute a"
        );
        assert_eq!(rewritten("SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = 5)"), "SELECT 1 WHERE true");
        assert_eq!(rewritten("SELECT 1 WHERE 5 IN (SELECT inhrelid FROM pg_inherits)"), "SELECT 1 WHERE false");
        assert_eq!(
            rewritten("SELECT p.polname, array(SELECT rolname FROM pg_roles WHERE oid = ANY(p.polroles)) FROM pg_policy p WHERE p.polrelid = 1"),
            "SELECT p.polname, NULL FROM pg_policy p WHERE p.polrelid = 1"
        );
        for kept in [
            "SELECT (SELECT count(*) FROM pg_trigger)",
            "SELECT (SELECT c.relname FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LIMIT 1)",
            "SELECT (SELECT relname FROM pg_class LIMIT 1)",
            "SELECT (SELECT collname FROM public.pg_collation)",
        ] {
            assert_eq!(rewritten(kept), kept);
        }
    }
}
