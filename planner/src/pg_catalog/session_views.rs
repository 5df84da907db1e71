//! The session as the catalogs show it: `pg_settings`, `pg_stat_activity` (this session's own
//! row) and `current_setting(name [, missing_ok])`, which clients and BI tools query on connect;
//! and `pg_stat_progress_create_index`, the index builds of every session.
//!
//! The session copies what they show into its planning scope at each statement
//! ([`SessionSnapshot`]), so they read the settings and statement of the moment.

use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::SUPERUSER_OID;
use super::builder::Table;
use crate::catalog_provider::PlanningScope;
use crate::settings::SettingRow;

/// The session facts its catalogs show.
#[derive(Debug, Clone, Default)]
pub struct SessionSnapshot {
    pub settings: Arc<Vec<SettingRow>>,
    pub pid: i32,
    pub user: String,
    pub database: String,
    /// When the connection started and when the current statement did (µs since the epoch).
    pub started_us: i64,
    pub statement_us: i64,
    /// The current statement (printed only when `pg_stat_activity` is read).
    pub statement: Option<Arc<datafusion::sql::sqlparser::ast::Statement>>,
    /// Set while a statement runs (its rows included), by the wire layer's [`crate::activity::Busy`].
    pub busy: Arc<std::sync::atomic::AtomicBool>,
    /// The session's transaction block after its last statement, for `idle in transaction`,
    /// and the flag its result stream sets when it fails after the statement returned (which
    /// fails an open block too).
    pub block: crate::transaction::State,
    pub stream_failed: Arc<std::sync::atomic::AtomicBool>,
}

impl SessionSnapshot {
    fn setting(&self, name: &str) -> Option<&SettingRow> {
        let name = name.to_ascii_lowercase();
        let name = if name == "time zone" { "timezone".to_string() } else { name };
        self.settings.iter().find(|s| s.name.eq_ignore_ascii_case(&name))
    }
}

/// `pg_settings`, with PostgreSQL's columns.
pub fn pg_settings(session: &SessionSnapshot) -> Result<RecordBatch> {
    let rows = session.settings.as_slice();
    let vartype = |r: &SettingRow| {
        if matches!(r.default, "on" | "off") {
            "bool"
        } else if r.default.parse::<i64>().is_ok() {
            "integer"
        } else {
            "string"
        }
    };
    Table::new(rows)
        .text("name", |r| Some(r.name.to_string()))
        .text("setting", |r| Some(r.value.clone()))
        .text("unit", |r| matches!(r.name, "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout").then(|| "ms".to_string()))
        .text("category", |r| Some(if r.name.contains('.') { "Customized Options" } else { "Client Connection Defaults" }.to_string()))
        .text("short_desc", |_| Some(String::new()))
        .null_text("extra_desc")
        .text("context", |r| Some(if r.read_only { "internal" } else { "user" }.to_string()))
        .text("vartype", |r| Some(vartype(r).to_string()))
        .text("source", |r| Some(if r.set { "session" } else { "default" }.to_string()))
        .null_text("min_val")
        .null_text("max_val")
        .text_list("enumvals", |_| None)
        .text("boot_val", |r| Some(r.default.to_string()))
        .text("reset_val", |r| Some(r.default.to_string()))
        .null_text("sourcefile")
        .i32("sourceline", |_| 0)
        .bool("pending_restart", |_| false)
        .finish()
}

/// `pg_stat_activity`: this session's own row (QuartzDB does not list other sessions yet).
/// `pg_stat_activity`: every session of the server (`own` first), its last statement, and
/// whether one runs now (`active`) or the session waits for the next (`idle`).
pub fn pg_stat_activity(own: &SessionSnapshot, others: &[SessionSnapshot], database_oid: impl Fn(&str) -> u32) -> Result<RecordBatch> {
    let rows: Vec<&SessionSnapshot> = std::iter::once(own).chain(others).collect();
    let own_pid = own.pid;
    let active = |s: &SessionSnapshot| s.pid == own_pid || s.busy.load(std::sync::atomic::Ordering::Acquire);
    Table::new(&rows)
        .oid("datid", |s| database_oid(&s.database))
        .text("datname", |s| Some(s.database.clone()))
        .i32("pid", |s| s.pid)
        .null_text("leader_pid")
        .oid("usesysid", |_| SUPERUSER_OID)
        .text("usename", |s| Some(s.user.clone()))
        .text("application_name", |s| s.setting("application_name").map(|v| v.value.clone()))
        .null_text("client_addr")
        .null_text("client_hostname")
        .i32("client_port", |_| -1)
        .timestamptz("backend_start", |s| Some(s.started_us))
        .timestamptz("xact_start", |s| Some(s.statement_us))
        .timestamptz("query_start", |s| Some(s.statement_us))
        .timestamptz("state_change", |s| Some(s.statement_us))
        .null_text("wait_event_type")
        .null_text("wait_event")
        .text("state", |s| {
            use crate::transaction::State;
            let failed = s.stream_failed.load(std::sync::atomic::Ordering::Acquire);
            Some(
                match (active(s), if failed && s.block == State::Open { State::Failed } else { s.block }) {
                    (true, _) => "active",
                    (false, State::Idle) => "idle",
                    (false, State::Open) => "idle in transaction",
                    (false, State::Failed) => "idle in transaction (aborted)",
                }
                .to_string(),
            )
        })
        .null_text("backend_xid")
        .null_text("backend_xmin")
        .null_text("query_id")
        .text("query", |s| s.statement.as_ref().map(|q| q.to_string()))
        .text("backend_type", |_| Some("client backend".to_string()))
        .finish()
}

/// `pg_stat_progress_create_index`: the index builds running now, in any session. Lance's
/// stages name the phase; rows counts are `tuples_*`, IVF partitions `partitions_*`; there are
/// no blocks or lockers to wait for.
pub fn pg_stat_progress_create_index(builds: &[quartzdb_storage::progress::BuildProgress], catalog: &quartzdb_storage::Catalog) -> Result<RecordBatch> {
    let count = |n: u64| n as i64;
    Table::new(builds)
        .i32("pid", |b| b.pid)
        .oid("datid", |b| catalog.database(&b.database).map(|d| d.oid).unwrap_or(0))
        .text("datname", |b| Some(b.database.clone()))
        .oid("relid", |b| b.table_oid)
        // The index gets its OID when the build commits.
        .oid("index_relid", |_| 0)
        .text("command", |b| Some(b.command.to_string()))
        .text("phase", |b| Some(b.phase.clone()))
        .i64("lockers_total", |_| 0)
        .i64("lockers_done", |_| 0)
        .i64("current_locker_pid", |_| 0)
        .i64("blocks_total", |_| 0)
        .i64("blocks_done", |_| 0)
        .i64("tuples_total", |b| count(b.tuples_total))
        .i64("tuples_done", |b| count(b.tuples_done))
        .i64("partitions_total", |b| count(b.partitions_total))
        .i64("partitions_done", |b| count(b.partitions_done))
        .finish()
}

/// `current_setting(name [, missing_ok])`.
#[derive(Debug)]
pub struct CurrentSetting {
    scope: Arc<Mutex<PlanningScope>>,
    signature: Signature,
}

impl PartialEq for CurrentSetting {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.scope, &other.scope)
    }
}
impl Eq for CurrentSetting {}
impl std::hash::Hash for CurrentSetting {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "current_setting".hash(state);
    }
}

impl CurrentSetting {
    pub fn udf(scope: Arc<Mutex<PlanningScope>>) -> ScalarUDF {
        let signature = Signature::one_of(
            vec![datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8]), datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean])],
            Volatility::Stable,
        );
        ScalarUDF::new_from_impl(Self { scope, signature })
    }
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let names = args.args[0].to_array(n)?;
        let missing_ok = match args.args.get(1) {
            Some(a) => Some(a.to_array(n)?),
            None => None,
        };
        let session = self.scope.lock().expect("scope lock").session.clone();
        let mut out = Vec::with_capacity(n);
        for (i, name) in names.as_string::<i32>().iter().enumerate() {
            let Some(name) = name else {
                out.push(None);
                continue;
            };
            match session.setting(name) {
                Some(s) => out.push(Some(s.value.clone())),
                None if missing_ok.as_ref().is_some_and(|m| m.as_boolean().value(i)) => out.push(None),
                None => return Err(crate::Error::UnknownSetting(name.to_string()).into()),
            }
        }
        let out: ArrayRef = Arc::new(StringArray::from(out));
        if scalar { Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)) } else { Ok(ColumnarValue::Array(out)) }
    }
}
