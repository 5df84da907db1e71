//! The PostgreSQL wire protocol (v3), spoken through `pgwire`.
//!
//! Each connection gets its own [`Connection`], which holds its session and implements pgwire's
//! handler traits: startup ([`startup`]), simple and extended query ([`query`]). Results are
//! Arrow batches encoded by `arrow-pg` ([`encode`]); errors get their SQLSTATE from
//! [`crate::sqlstate`] ([`error`]). Cancel requests reach the running query through [`cancel`].

pub mod binary_copy;
pub mod cancel;
pub mod copy;
pub mod copy_out;
pub mod encode;
pub mod error;
pub mod params;
pub mod query;
pub mod startup;

use std::sync::Arc;

use pgwire::api::PgWireServerHandlers;
use quartzdb_planner::{Engine, Session};
use tokio::sync::Mutex;

use self::cancel::{CancelRegistry, CancelState};

/// One client connection: its session (after startup) and the way to cancel its queries.
pub struct Connection {
    engine: Arc<Engine>,
    registry: Arc<CancelRegistry>,
    /// Trust non-loopback peers too (`--allow-remote`).
    allow_remote: bool,
    session: Arc<Mutex<Option<Session>>>,
    /// The COPY FROM STDIN whose data is arriving, if any.
    copy: std::sync::Mutex<Option<copy::CopyInProgress>>,
    parser: Arc<query::StatementParser>,
    cancel: Arc<CancelState>,
    /// This connection's backend PID, once startup assigned it; unregistered on drop.
    pid: std::sync::Mutex<Option<i32>>,
}

impl Connection {
    pub fn new(engine: Arc<Engine>, registry: Arc<CancelRegistry>, allow_remote: bool) -> Arc<Self> {
        let session = Arc::new(Mutex::new(None));
        Arc::new(Self {
            engine,
            registry,
            allow_remote,
            parser: Arc::new(query::StatementParser::new(session.clone())),
            session,
            copy: std::sync::Mutex::new(None),
            cancel: Arc::new(CancelState::default()),
            pid: std::sync::Mutex::new(None),
        })
    }
}

impl Connection {
    /// The connection's cancel and terminate signals.
    pub fn signals(&self) -> Arc<CancelState> {
        self.cancel.clone()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(pid) = *self.pid.lock().expect("pid lock") {
            self.registry.unregister(pid);
        }
    }
}

/// pgwire asks a factory for each handler; every one is the connection itself.
pub struct Handlers(pub Arc<Connection>);

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.0.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.0.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.0.clone()
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.0.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.0.registry.clone()
    }
}
