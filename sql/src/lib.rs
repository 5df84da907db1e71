//! QuartzDB's SQL front: the PostgreSQL dialect of `sqlparser` (the copy DataFusion re-exports),
//! parsing, and the AST rewrites that make Postgres clients' SQL plannable.
//!
//! - [`parser`]: text → statements.
//! - [`error`]: parse errors.
//! - [`vector_search`]: the `vector_search(...)` table function, rewritten into its query.

mod compat;
pub mod error;
pub mod parser;
pub mod vector_search;

pub use datafusion::sql::sqlparser::ast;
pub use error::{Error, Result};
pub use compat::EXPAND_ARRAY;
pub use parser::{CONSTRAINT_MARKER, is_move, parse, parse_expr, parse_object_name};
