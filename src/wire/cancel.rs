//! CancelRequest: another connection names a backend PID and secret key, and the query running
//! there stops with 57014.
//!
//! pgwire's own cancel covers only the planning part of a simple query; QuartzDB's covers the
//! whole statement, including streaming its rows, for both protocols.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use pgwire::api::cancel::CancelHandler;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use tokio::sync::Notify;

/// A connection's cancel signal. Each cancel bumps the generation; a query compares the
/// generation it started under, so a cancel that arrives while idle affects nothing.
#[derive(Debug, Default)]
pub struct CancelState {
    generation: AtomicU64,
    notify: Notify,
    /// `pg_terminate_backend`: the connection is to be closed.
    terminated: std::sync::atomic::AtomicBool,
    terminate: Notify,
}

impl CancelState {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_waiters();
    }

    /// The connection's task then drops it (and a statement it runs) and says why.
    fn terminate(&self) {
        self.terminated.store(true, Ordering::Release);
        self.terminate.notify_waiters();
    }

    /// Resolves once `pg_terminate_backend` named this connection.
    pub async fn terminated(&self) {
        loop {
            let notified = self.terminate.notified();
            if self.terminated.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Resolves once a cancel arrives after `since`.
    pub async fn cancelled(&self, since: u64) {
        loop {
            let notified = self.notify.notified();
            if self.generation() != since {
                return;
            }
            notified.await;
        }
    }
}

/// Live connections by backend PID.
#[derive(Debug, Default)]
pub struct CancelRegistry {
    connections: Mutex<HashMap<i32, (SecretKey, Arc<CancelState>)>>,
}

impl CancelRegistry {
    pub fn register(&self, pid: i32, key: SecretKey, state: Arc<CancelState>) {
        self.connections.lock().expect("cancel registry").insert(pid, (key, state));
    }

    pub fn unregister(&self, pid: i32) {
        self.connections.lock().expect("cancel registry").remove(&pid);
    }

    /// Cancels the statement of connection `pid` (`pg_cancel_backend`), with `terminate` also
    /// closing the connection (`pg_terminate_backend`); false when there is none.
    pub fn signal_pid(&self, pid: i32, terminate: bool) -> bool {
        let state = self.connections.lock().expect("cancel registry").get(&pid).map(|(_, s)| s.clone());
        match state {
            Some(state) if terminate => {
                tracing::info!(pid, "pg_terminate_backend");
                state.terminate();
                true
            }
            Some(state) => {
                tracing::info!(pid, "pg_cancel_backend");
                state.cancel();
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl CancelHandler for CancelRegistry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let state = {
            let connections = self.connections.lock().expect("cancel registry");
            match connections.get(&request.pid) {
                // A wrong key is ignored silently, as PostgreSQL does.
                Some((key, state)) if key.eq_value(&request.secret_key) => Some(state.clone()),
                _ => None,
            }
        };
        if let Some(state) = state {
            tracing::info!(pid = request.pid, "cancel request");
            state.cancel();
        }
    }
}
