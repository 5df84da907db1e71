//! QuartzDB's planner: the DataFusion session each connection uses, how each SQL statement is
//! executed, and the Postgres semantics layered on DataFusion.
//!
//! - [`engine`]: shared state (storage) and session creation.
//! - [`session`]: one connection's DataFusion context and settings; [`Session::execute`].
//! - [`ddl`] and [`dml`]: statements QuartzDB executes itself (DataFusion only plans the queries
//!   inside them, so its own DML path, with its subquery bug, is never used).
//! - [`catalog_provider`]: tables and views resolved from the durable catalog.
//! - [`types`], [`type_planner`]: Postgres types ↔ Arrow.
//! - [`functions`]: Postgres functions DataFusion lacks (`version()`, `nextval`, ...).

pub mod activity;
pub mod array_input;
pub mod bytea_input;
pub mod case_types;
pub mod catalog_provider;
pub mod check_constraint;
pub mod checked_arithmetic;
pub mod copy;
pub mod cursor;
pub mod datetime;
pub mod ddl;
pub mod declared_types;
pub mod dml;
pub mod engine;
pub mod error;
pub mod expand_array;
pub mod float_text;
pub mod format_function;
pub mod functions;
pub mod in_subquery_values;
pub mod int_casts;
pub mod json_build;
pub mod like_escape;
pub mod names;
pub mod numeric_text;
pub mod output;
pub mod param_slots;
pub mod params;
pub mod parse_ident;
pub mod plan_cache;
pub mod prepared;
mod rewrite;
pub mod scalar_subquery;
pub mod pg_catalog;
pub mod regexp_split;
pub mod session;
pub mod sort_subqueries;
pub mod set_config;
pub mod set_constraints;
pub mod settings;
pub mod subplan;
pub mod transaction;
pub mod type_planner;
pub mod types;
pub mod vector;
pub mod view;

pub use engine::Engine;
pub use error::{Error, Result};
pub use output::{CommandTag, Output};
pub use quartzdb_storage::Error as StorageError;
pub use session::{Description, Session};

/// The version string `version()` and `server_version` report: a PostgreSQL version clients can
/// parse, followed by QuartzDB's own.
pub const PG_VERSION: &str = "15.0";
pub fn version_string() -> String {
    format!("PostgreSQL {PG_VERSION} (QuartzDB {}) on x86_64-pc-linux-gnu, compiled by rustc", env!("CARGO_PKG_VERSION"))
}
