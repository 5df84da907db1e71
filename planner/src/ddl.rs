//! DDL statements, executed against the durable catalog. One file per statement family.

pub mod alter;
pub mod comment;
pub mod create_table;
pub mod drop;
pub mod extension;
pub mod foreign_key;
pub mod index;
pub mod schema;
pub mod truncate;
pub mod vacuum;
pub mod view;
