//! Errors on the wire: the SQLSTATE from [`crate::sqlstate`], a message without the wrapper
//! prefixes DataFusion adds, and PostgreSQL's DETAIL where there is one.

use std::error::Error as StdError;

use datafusion::error::DataFusionError;
use pgwire::error::{ErrorInfo, PgWireError};
use quartzdb_planner::{Error as PlannerError, StorageError};

use crate::sqlstate::{SqlState, classify};

pub fn to_pgwire(err: &(dyn StdError + 'static)) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(err)))
}

/// An error QuartzDB's wire layer raises itself.
pub fn user_error(code: SqlState, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.code().into(), message.into())))
}

pub fn error_info(err: &(dyn StdError + 'static)) -> ErrorInfo {
    let state = classify(err);
    if state == SqlState::InternalError {
        tracing::error!(error = %err, "internal error");
    }
    let mut info = ErrorInfo::new("ERROR".into(), state.code().into(), message(err));
    info.detail = detail(err);
    if let Some(PlannerError::InCopy { context, .. }) = err.downcast_ref::<PlannerError>() {
        info.where_context = Some(context.clone());
    }
    info
}

pub fn cancelled() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        SqlState::QueryCanceled.code().into(),
        "canceling statement due to user request".into(),
    )))
}

pub fn timed_out() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        SqlState::QueryCanceled.code().into(),
        "canceling statement due to statement timeout".into(),
    )))
}

/// The innermost meaningful message: typed QuartzDB errors speak for themselves; DataFusion's
/// wrappers (`External error: `, `Error during planning: `, …) are peeled off.
fn message(err: &(dyn StdError + 'static)) -> String {
    if let Some(e) = err.downcast_ref::<DataFusionError>() {
        return match e {
            DataFusionError::External(inner) => message(inner.as_ref()),
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => message(inner.as_ref()),
            DataFusionError::Shared(inner) => message(inner.as_ref()),
            DataFusionError::ArrowError(inner, _) => message(inner.as_ref()),
            DataFusionError::Plan(m) => postgres_wording(m),
            DataFusionError::Execution(m) | DataFusionError::NotImplemented(m) => m.clone(),
            DataFusionError::SQL(inner, _) => inner.to_string(),
            DataFusionError::SchemaError(inner, _) => inner.to_string(),
            other => other.to_string(),
        };
    }
    if let Some(PlannerError::DataFusion(e)) = err.downcast_ref::<PlannerError>() {
        return message(e);
    }
    if let Some(PlannerError::InCopy { source, .. }) = err.downcast_ref::<PlannerError>() {
        return message(source.as_ref());
    }
    if let Some(PlannerError::Storage(e)) = err.downcast_ref::<PlannerError>() {
        return message(e);
    }
    if let Some(StorageError::DataFusion(e)) = err.downcast_ref::<StorageError>() {
        return message(e);
    }
    match err.downcast_ref::<arrow::error::ArrowError>() {
        Some(arrow::error::ArrowError::ExternalError(inner)) => return message(inner.as_ref()),
        Some(arrow::error::ArrowError::CastError(m)) => {
            if let Some((_, pg)) = crate::sqlstate::integer_cast(m) {
                return pg;
            }
        }
        _ => {}
    }
    err.to_string()
}

/// PostgreSQL's message where DataFusion words the same error its own way.
fn postgres_wording(m: &str) -> String {
    // "table 'quartz.public.t' not found": PostgreSQL names the relation as written.
    if let Some(name) = m.strip_prefix("table '").and_then(|r| r.strip_suffix("' not found")) {
        let name = name.rsplit('.').next().unwrap_or(name);
        return format!("relation \"{name}\" does not exist");
    }
    m.to_string()
}

fn detail(err: &(dyn StdError + 'static)) -> Option<String> {
    match err.downcast_ref::<StorageError>() {
        Some(StorageError::UniqueViolation { detail, .. }) => return Some(detail.clone()),
        Some(StorageError::DuplicateKeys { detail, .. }) => return Some(detail.clone()),
        Some(StorageError::ForeignKeyViolation { detail, .. } | StorageError::DependentObjects { detail, .. } | StorageError::TruncateReferenced { detail }) => {
            return Some(detail.clone());
        }
        Some(StorageError::InvalidIndexOption { detail, .. }) => return detail.clone(),
        _ => {}
    }
    if let Some(e) = err.downcast_ref::<DataFusionError>() {
        return match e {
            DataFusionError::External(inner) => detail(inner.as_ref()),
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => detail(inner.as_ref()),
            _ => None,
        };
    }
    match err.downcast_ref::<PlannerError>() {
        Some(PlannerError::DependentObjects { detail, .. }) => Some(detail.clone()),
        Some(PlannerError::CheckViolation { detail, .. }) => detail.clone(),
        Some(PlannerError::Storage(e)) => detail(e),
        Some(PlannerError::DataFusion(e)) => detail(e),
        Some(PlannerError::InCopy { source, .. }) => detail(source.as_ref()),
        _ => None,
    }
}
