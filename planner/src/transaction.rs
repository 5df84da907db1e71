//! Transaction blocks as PostgreSQL has them: `BEGIN … COMMIT | ROLLBACK`, savepoints, `SET
//! TRANSACTION`, and the failed state after an error (25P02 until the block ends).
//!
//! [`Block`] keeps the block's state and answers the control statements; the session applies
//! what they mean to its storage transaction (`quartzdb_storage::Txn`), which a block takes at
//! its first write and keeps until it ends.
//!
//! Isolation: under READ COMMITTED (the default) each statement sees the latest committed data
//! and, once the block has written, its own changes; a writing block holds the database's write
//! lock until it ends, so writers queue and never lose each other's updates. REPEATABLE READ and
//! SERIALIZABLE blocks take the lock at their first statement, so the whole block sees one state
//! that nobody else changes: serializable, at the price of waiting for (and making wait) every
//! other writer.

use datafusion::sql::sqlparser::ast::{self, Set, Statement, TransactionAccessMode, TransactionIsolationLevel, TransactionMode};

use crate::error::{Error, Result};
use crate::output::{CommandTag, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    /// No transaction block: each statement is its own transaction.
    #[default]
    Idle,
    /// Inside `BEGIN`.
    Open,
    /// A statement in the block failed; only ROLLBACK (or COMMIT, which rolls back) is taken.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Run as READ COMMITTED, as PostgreSQL runs it, but shown as asked for.
    ReadUncommitted,
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    /// PostgreSQL's spelling, as `SHOW transaction_isolation` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "read uncommitted",
            Isolation::ReadCommitted => "read committed",
            Isolation::RepeatableRead => "repeatable read",
            Isolation::Serializable => "serializable",
        }
    }

    /// Reads a `default_transaction_isolation` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read uncommitted" => Some(Isolation::ReadUncommitted),
            "read committed" => Some(Isolation::ReadCommitted),
            "repeatable read" => Some(Isolation::RepeatableRead),
            "serializable" => Some(Isolation::Serializable),
            _ => None,
        }
    }

    /// Whether the block takes the write lock at its first statement (see the module comment).
    pub fn locks_at_start(self) -> bool {
        !matches!(self, Isolation::ReadCommitted | Isolation::ReadUncommitted)
    }
}

#[derive(Debug, Default)]
pub struct Block {
    pub state: State,
    pub isolation: Isolation,
    pub read_only: bool,
    /// Savepoint names, oldest first (a name may repeat; the latest wins, as in PostgreSQL).
    savepoints: Vec<String>,
    /// A statement other than transaction control ran in the block.
    started: bool,
}

/// What the session does with a statement, given the block state.
pub enum Action {
    /// The statement was transaction control and needs nothing more; here is its result.
    Done(Output),
    /// The block ends: commit (or roll back) the session's transaction, then answer this.
    End { commit: bool, output: Output },
    /// Savepoint work for the session's transaction, then answer this.
    Savepoint { op: SavepointOp, name: String, output: Output },
    /// Run the statement.
    Run,
}

pub enum SavepointOp {
    Create,
    RollbackTo,
    Release,
}

/// Defaults for new blocks: the session's `default_transaction_*` settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defaults {
    pub isolation: Isolation,
    pub read_only: bool,
}

fn tag(t: &str) -> Output {
    Output::Command(CommandTag::new(t))
}

fn edge(t: &str, opened: bool) -> Output {
    Output::Command(CommandTag::new(t).with_block(opened))
}

impl Block {
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Handles transaction control, and refuses what the state does not allow.
    pub fn before(&mut self, stmt: &Statement, defaults: Defaults) -> Result<Action> {
        match stmt {
            Statement::StartTransaction { modes, .. } => {
                if self.state == State::Idle {
                    *self = Block { state: State::Open, isolation: defaults.isolation, read_only: defaults.read_only, ..Default::default() };
                    self.apply_modes(modes)?;
                } else {
                    // PostgreSQL warns "there is already a transaction in progress" and goes on.
                    tracing::debug!("BEGIN inside a transaction block");
                }
                Ok(Action::Done(edge("BEGIN", true)))
            }
            Statement::Commit { .. } => {
                // COMMIT of a failed block rolls it back, and says so.
                let failed = self.state == State::Failed;
                let commit = self.state == State::Open;
                *self = Block::default();
                Ok(Action::End { commit, output: edge(if failed { "ROLLBACK" } else { "COMMIT" }, false) })
            }
            Statement::Rollback { savepoint: None, .. } => {
                *self = Block::default();
                Ok(Action::End { commit: false, output: edge("ROLLBACK", false) })
            }
            Statement::Rollback { savepoint: Some(name), .. } => {
                let name = crate::names::ident(name);
                self.in_block("ROLLBACK TO SAVEPOINT")?;
                self.find(&name)?;
                let at = self.savepoints.iter().rposition(|n| *n == name).expect("found");
                self.savepoints.truncate(at + 1);
                self.state = State::Open;
                Ok(Action::Savepoint { op: SavepointOp::RollbackTo, name, output: tag("ROLLBACK") })
            }
            Statement::Savepoint { name } => {
                self.in_block("SAVEPOINT")?;
                self.not_failed()?;
                let name = crate::names::ident(name);
                self.savepoints.push(name.clone());
                Ok(Action::Savepoint { op: SavepointOp::Create, name, output: tag("SAVEPOINT") })
            }
            Statement::ReleaseSavepoint { name } => {
                self.in_block("RELEASE SAVEPOINT")?;
                self.not_failed()?;
                let name = crate::names::ident(name);
                self.find(&name)?;
                let at = self.savepoints.iter().rposition(|n| *n == name).expect("found");
                self.savepoints.truncate(at);
                Ok(Action::Savepoint { op: SavepointOp::Release, name, output: tag("RELEASE") })
            }
            _ if self.state == State::Failed => Err(Error::InFailedTransaction),
            Statement::Set(Set::SetTransaction { modes, session: false, .. }) => {
                if self.state == State::Idle {
                    // PostgreSQL warns that it has no effect outside a block.
                    return Ok(Action::Done(tag("SET")));
                }
                if self.started && modes.iter().any(|m| matches!(m, TransactionMode::IsolationLevel(_))) {
                    return Err(Error::ActiveTransaction("SET TRANSACTION ISOLATION LEVEL must be called before any query".into()));
                }
                self.apply_modes(modes)?;
                Ok(Action::Done(tag("SET")))
            }
            _ => {
                if self.state == State::Open {
                    if self.read_only && !read_only(stmt) {
                        return Err(Error::ReadOnlyTransaction(statement_name(stmt)));
                    }
                    if let Some(what) = not_in_block(stmt) {
                        return Err(Error::ActiveTransaction(format!("{what} cannot run inside a transaction block")));
                    }
                    self.started = true;
                }
                Ok(Action::Run)
            }
        }
    }

    fn apply_modes(&mut self, modes: &[TransactionMode]) -> Result<()> {
        for mode in modes {
            match mode {
                TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => self.read_only = true,
                TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => self.read_only = false,
                TransactionMode::IsolationLevel(level) => {
                    self.isolation = match level {
                        TransactionIsolationLevel::ReadUncommitted => Isolation::ReadUncommitted,
                        TransactionIsolationLevel::ReadCommitted => Isolation::ReadCommitted,
                        TransactionIsolationLevel::RepeatableRead => Isolation::RepeatableRead,
                        TransactionIsolationLevel::Serializable => Isolation::Serializable,
                        TransactionIsolationLevel::Snapshot => return Err(Error::Syntax("isolation level SNAPSHOT".into())),
                    }
                }
            }
        }
        Ok(())
    }

    fn in_block(&self, what: &str) -> Result<()> {
        if self.state == State::Idle {
            return Err(Error::NoTransactionBlock(what.into()));
        }
        Ok(())
    }

    fn not_failed(&self) -> Result<()> {
        if self.state == State::Failed {
            return Err(Error::InFailedTransaction);
        }
        Ok(())
    }

    fn find(&self, name: &str) -> Result<()> {
        if self.savepoints.iter().any(|n| n == name) { Ok(()) } else { Err(Error::UnknownSavepoint(name.into())) }
    }

    /// The savepoints declared so far, oldest first (a transaction begun later replays them).
    pub fn savepoints(&self) -> &[String] {
        &self.savepoints
    }

    /// Records a statement's failure: an open block becomes failed.
    pub fn after_error(&mut self) {
        if self.state == State::Open {
            self.state = State::Failed;
        }
    }
}

/// Statements that change nothing stored.
fn read_only(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::Query(_)
            | Statement::ShowVariable { .. }
            | Statement::Set(_)
            | Statement::Reset(_)
            | Statement::Explain { analyze: false, .. }
            | Statement::Prepare { .. }
            | Statement::Deallocate { .. }
            | Statement::Discard { .. }
            | Statement::Copy { to: true, .. }
            | Statement::Declare { .. }
            | Statement::Fetch { .. }
            | Statement::Close { .. }
    ) || matches!(stmt, Statement::Explain { statement, .. } if matches!(statement.as_ref(), Statement::Query(_)))
}

/// Statements PostgreSQL refuses inside a block (25001).
fn not_in_block(stmt: &Statement) -> Option<&'static str> {
    match stmt {
        Statement::Vacuum(v) if !v.reindex => Some("VACUUM"),
        Statement::CreateIndex(c) if c.concurrently => Some("CREATE INDEX CONCURRENTLY"),
        Statement::CreateDatabase { .. } => Some("CREATE DATABASE"),
        Statement::Discard { object_type: ast::DiscardObject::ALL } => Some("DISCARD ALL"),
        _ => None,
    }
}

/// The statement's kind as PostgreSQL names it in "cannot execute X in a read-only transaction".
fn statement_name(stmt: &Statement) -> String {
    match stmt {
        Statement::Insert(_) => "INSERT".into(),
        Statement::Update(_) => "UPDATE".into(),
        Statement::Delete(_) => "DELETE".into(),
        Statement::Truncate(_) => "TRUNCATE TABLE".into(),
        Statement::Copy { .. } => "COPY FROM".into(),
        other => other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> Statement {
        quartzdb_sql::parse(sql).unwrap().remove(0)
    }

    fn run(b: &mut Block, sql: &str) -> String {
        match b.before(&stmt(sql), Defaults::default()) {
            Ok(Action::Done(Output::Command(t))) => t.command,
            Ok(Action::End { commit, output: Output::Command(t) }) => format!("{} ({})", t.command, if commit { "commit" } else { "rollback" }),
            Ok(Action::Savepoint { output: Output::Command(t), .. }) => t.command,
            Ok(Action::Run) => "run".into(),
            Ok(_) => "other".into(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn blocks_savepoints_and_failure() {
        let mut b = Block::default();
        assert_eq!(run(&mut b, "BEGIN"), "BEGIN");
        assert_eq!(run(&mut b, "INSERT INTO t VALUES (1)"), "run");
        assert_eq!(run(&mut b, "SAVEPOINT s"), "SAVEPOINT");
        assert!(run(&mut b, "ROLLBACK TO SAVEPOINT nope").contains("does not exist"));
        assert_eq!(run(&mut b, "RELEASE SAVEPOINT s"), "RELEASE");
        assert!(run(&mut b, "RELEASE SAVEPOINT s").contains("does not exist"));
        assert_eq!(run(&mut b, "SAVEPOINT a"), "SAVEPOINT");
        b.after_error();
        assert!(run(&mut b, "SELECT 1").contains("aborted"));
        assert_eq!(run(&mut b, "ROLLBACK TO SAVEPOINT a"), "ROLLBACK");
        assert_eq!(b.state, State::Open);
        assert_eq!(run(&mut b, "COMMIT"), "COMMIT (commit)");
        assert!(b.is_idle());
        assert!(run(&mut b, "SAVEPOINT s").starts_with("error"));

        b.before(&stmt("BEGIN"), Defaults::default()).unwrap();
        b.after_error();
        assert_eq!(run(&mut b, "COMMIT"), "ROLLBACK (rollback)");
    }

    #[test]
    fn modes_and_statements_a_block_refuses() {
        let mut b = Block::default();
        assert_eq!(run(&mut b, "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY"), "BEGIN");
        assert_eq!((b.isolation, b.read_only), (Isolation::Serializable, true));
        assert!(run(&mut b, "DELETE FROM t").contains("read-only transaction"));
        assert_eq!(run(&mut b, "ROLLBACK"), "ROLLBACK (rollback)");
        run(&mut b, "BEGIN");
        assert_eq!(run(&mut b, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"), "SET");
        assert_eq!(b.isolation, Isolation::RepeatableRead);
        assert_eq!(run(&mut b, "SELECT 1"), "run");
        assert!(run(&mut b, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").contains("before any query"));
        assert!(run(&mut b, "VACUUM").contains("inside a transaction block"));
    }
}
