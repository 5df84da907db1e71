//! Transaction blocks, for now read-only: `BEGIN … COMMIT | ROLLBACK`, savepoints, and the
//! failed state after an error (25P02 until the block ends), as PostgreSQL has them.
//!
//! Every statement still commits on its own, so a block may hold only statements that write
//! nothing: queries, SHOW and SET. A write inside a block is refused (0A000) instead of being
//! committed early, so ROLLBACK never leaves a change behind. Reads in a block see each
//! statement's own snapshot, which is PostgreSQL's default READ COMMITTED behaviour. Drivers
//! that wrap catalog lookups in a transaction (psycopg's `TypeInfo.fetch`, SQLAlchemy) work.

use datafusion::sql::sqlparser::ast::Statement;

use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Block {
    /// No transaction block: each statement is its own transaction.
    #[default]
    Idle,
    /// Inside `BEGIN`.
    Open,
    /// A statement in the block failed; only ROLLBACK (or COMMIT, which rolls back) is taken.
    Failed,
}

/// What the session does with a statement, given the block state.
pub enum Action {
    /// The statement was transaction control; here is its result.
    Done(Output),
    /// Run the statement.
    Run,
}

impl Block {
    /// Handles transaction control, and refuses what the state does not allow.
    pub fn before(&mut self, stmt: &Statement) -> Result<Action> {
        let tag = |t: &str| Ok(Action::Done(Output::Command(CommandTag::new(t))));
        let edge = |t: &str, opened: bool| Ok(Action::Done(Output::Command(CommandTag::new(t).with_block(opened))));
        match stmt {
            Statement::StartTransaction { .. } => {
                if *self == Block::Idle {
                    *self = Block::Open;
                }
                edge("BEGIN", true)
            }
            Statement::Commit { .. } => {
                let failed = *self == Block::Failed;
                *self = Block::Idle;
                edge(if failed { "ROLLBACK" } else { "COMMIT" }, false)
            }
            Statement::Rollback { savepoint: None, .. } => {
                *self = Block::Idle;
                edge("ROLLBACK", false)
            }
            Statement::Rollback { savepoint: Some(_), .. } => match self {
                Block::Idle => Err(Error::NoTransactionBlock("ROLLBACK TO SAVEPOINT".into())),
                // Nothing in a read-only block needs undoing.
                _ => {
                    *self = Block::Open;
                    tag("ROLLBACK")
                }
            },
            Statement::Savepoint { .. } | Statement::ReleaseSavepoint { .. } => match self {
                Block::Idle => {
                    let what = if matches!(stmt, Statement::Savepoint { .. }) { "SAVEPOINT" } else { "RELEASE SAVEPOINT" };
                    Err(Error::NoTransactionBlock(what.into()))
                }
                Block::Failed => Err(Error::InFailedTransaction),
                Block::Open => tag(if matches!(stmt, Statement::Savepoint { .. }) { "SAVEPOINT" } else { "RELEASE" }),
            },
            _ if *self == Block::Failed => Err(Error::InFailedTransaction),
            _ if *self == Block::Open && !read_only(stmt) => {
                *self = Block::Failed;
                Err(Error::TransactionsUnsupported("statements that write inside a transaction block".into()))
            }
            _ => Ok(Action::Run),
        }
    }

    /// Records a statement's failure: an open block becomes failed.
    pub fn after_error(&mut self) {
        if *self == Block::Open {
            *self = Block::Failed;
        }
    }
}

/// Statements that change nothing stored.
fn read_only(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::Query(_) | Statement::ShowVariable { .. } | Statement::Set(_) | Statement::Reset(_) | Statement::Explain { analyze: false, .. }
    ) || matches!(stmt, Statement::Explain { statement, .. } if matches!(statement.as_ref(), Statement::Query(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> Statement {
        quartzdb_sql::parse(sql).unwrap().remove(0)
    }

    fn tag(a: Result<Action>) -> String {
        match a {
            Ok(Action::Done(Output::Command(t))) => t.command,
            Ok(Action::Run) => "run".into(),
            Ok(_) => "other".into(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn a_read_only_block() {
        let mut b = Block::default();
        assert_eq!(tag(b.before(&stmt("BEGIN"))), "BEGIN");
        assert_eq!(tag(b.before(&stmt("SELECT 1"))), "run");
        assert_eq!(tag(b.before(&stmt("SAVEPOINT s"))), "SAVEPOINT");
        assert_eq!(tag(b.before(&stmt("RELEASE SAVEPOINT s"))), "RELEASE");
        assert_eq!(tag(b.before(&stmt("COMMIT"))), "COMMIT");
        assert_eq!(b, Block::Idle);
    }

    #[test]
    fn writes_and_errors_fail_the_block() {
        let mut b = Block::default();
        b.before(&stmt("BEGIN")).unwrap();
        assert!(tag(b.before(&stmt("INSERT INTO t VALUES (1)"))).starts_with("error"));
        assert_eq!(b, Block::Failed);
        assert!(tag(b.before(&stmt("SELECT 1"))).contains("aborted"));
        assert_eq!(tag(b.before(&stmt("COMMIT"))), "ROLLBACK");
        assert_eq!(tag(b.before(&stmt("INSERT INTO t VALUES (1)"))), "run");
        b.before(&stmt("BEGIN")).unwrap();
        b.after_error();
        assert_eq!(tag(b.before(&stmt("ROLLBACK TO SAVEPOINT s"))), "ROLLBACK");
        assert_eq!(b, Block::Open);
        assert!(tag(Block::Idle.before(&stmt("SAVEPOINT s"))).starts_with("error"));
    }
}
