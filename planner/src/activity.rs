//! The server's sessions, as `pg_stat_activity` lists them, and `pg_cancel_backend`.
//!
//! Each session registers its planning scope (whose snapshot already says who it is and what it
//! last ran) and a busy flag the wire layer holds up while a statement runs, its rows included.
//! Cancelling reaches the connection through the canceller the server installs (the wire
//! layer's CancelRequest registry), so both ways of cancelling end a statement the same way.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::catalog_provider::PlanningScope;
use crate::pg_catalog::session_views::SessionSnapshot;

/// Signals backend `pid`: cancels its statement, and with `terminate` also ends its connection.
type Canceller = Box<dyn Fn(i32, bool) -> bool + Send + Sync>;

#[derive(Default)]
pub struct Activity {
    sessions: Mutex<BTreeMap<i32, Weak<Mutex<PlanningScope>>>>,
    canceller: OnceLock<Canceller>,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity").finish_non_exhaustive()
    }
}

impl Activity {
    pub(crate) fn register(&self, pid: i32, scope: &Arc<Mutex<PlanningScope>>) {
        let mut sessions = self.sessions.lock().expect("activity");
        sessions.retain(|_, s| s.strong_count() > 0);
        sessions.insert(pid, Arc::downgrade(scope));
    }

    /// What every live session shows, but `own` (whose scope the caller holds or just read).
    pub(crate) fn others(&self, own: i32) -> Vec<SessionSnapshot> {
        let scopes: Vec<Arc<Mutex<PlanningScope>>> =
            self.sessions.lock().expect("activity").iter().filter(|(pid, _)| **pid != own).filter_map(|(_, s)| s.upgrade()).collect();
        // One scope locked at a time, never while holding another (no lock order to get wrong).
        scopes.iter().map(|s| s.lock().expect("scope lock").session.clone()).collect()
    }

    /// Installs how a backend's statement is cancelled or its connection ended (once, by the
    /// server).
    pub fn set_canceller(&self, cancel: impl Fn(i32, bool) -> bool + Send + Sync + 'static) {
        let _ = self.canceller.set(Box::new(cancel));
    }

    /// Cancels the statement running in session `pid` (with `terminate`, also ends the
    /// session); false when there is no such session.
    pub(crate) fn signal(&self, pid: i32, terminate: bool) -> bool {
        self.canceller.get().is_some_and(|c| c(pid, terminate))
    }
}

/// Held while a session's statement runs; the session shows as active until it is dropped.
pub struct Busy(Arc<AtomicBool>);

impl Busy {
    pub(crate) fn start(flag: &Arc<AtomicBool>) -> Self {
        flag.store(true, Ordering::Release);
        Self(flag.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// `pg_cancel_backend(pid)`: cancels the statement running in that session (57014 there, as a
/// CancelRequest gives); `pg_terminate_backend(pid)` also closes that session's connection
/// (rolling back its open transaction). True when the session exists. Every role may, as every
/// role is a superuser until roles and grants exist.
#[derive(Debug)]
struct CancelBackend {
    scope: Arc<Mutex<PlanningScope>>,
    terminate: bool,
    signature: datafusion::logical_expr::Signature,
}

impl PartialEq for CancelBackend {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.scope, &other.scope) && self.terminate == other.terminate
    }
}
impl Eq for CancelBackend {}
impl std::hash::Hash for CancelBackend {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "pg_cancel_backend".hash(state);
        self.terminate.hash(state);
    }
}

/// `pg_cancel_backend` and `pg_terminate_backend`.
pub(crate) fn cancel_backend_udfs(scope: Arc<Mutex<PlanningScope>>) -> [datafusion::logical_expr::ScalarUDF; 2] {
    [false, true].map(|terminate| cancel_backend_udf(scope.clone(), terminate))
}

fn cancel_backend_udf(scope: Arc<Mutex<PlanningScope>>, terminate: bool) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{Signature, TypeSignature, Volatility};
    use arrow::datatypes::DataType;
    let signature = Signature::one_of(vec![TypeSignature::Exact(vec![DataType::Int32]), TypeSignature::Exact(vec![DataType::Int64])], Volatility::Volatile);
    datafusion::logical_expr::ScalarUDF::new_from_impl(CancelBackend { scope, terminate, signature })
}

impl datafusion::logical_expr::ScalarUDFImpl for CancelBackend {
    fn name(&self) -> &str {
        if self.terminate { "pg_terminate_backend" } else { "pg_cancel_backend" }
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _: &[arrow::datatypes::DataType]) -> datafusion::error::Result<arrow::datatypes::DataType> {
        Ok(arrow::datatypes::DataType::Boolean)
    }

    fn invoke_with_args(&self, args: datafusion::logical_expr::ScalarFunctionArgs) -> datafusion::error::Result<datafusion::logical_expr::ColumnarValue> {
        use arrow::array::{Array, AsArray, BooleanArray};
        let pids = arrow::compute::cast(&args.args[0].to_array(args.number_rows)?, &arrow::datatypes::DataType::Int64)?;
        let pids = pids.as_primitive::<arrow::datatypes::Int64Type>();
        let activity = self.scope.lock().expect("scope lock").activity.clone();
        let out: BooleanArray = (0..pids.len()).map(|i| (!pids.is_null(i)).then(|| i32::try_from(pids.value(i)).is_ok_and(|pid| activity.signal(pid, self.terminate)))).collect();
        Ok(datafusion::logical_expr::ColumnarValue::Array(Arc::new(out)))
    }
}
