//! QuartzDB storage: a durable catalog and one Lance dataset per table.
//!
//! The catalog ([`catalog::Catalog`]) is the one source of truth for each table's committed Lance
//! version. A write commits a new Lance version and then publishes it with one atomic, fsynced
//! catalog write; only then is it acknowledged. Versions never published are removed at startup
//! (and before the next commit), so after a crash every table opens at its last acknowledged
//! version.

mod alter_checks;
pub mod ann;
pub mod ann_direct;
mod ann_filter;
pub mod catalog;
pub mod checks;
mod comment;
mod deferred;
mod durable;
pub mod encoding;
pub mod foreign_keys;
pub mod error;
mod fsync_store;
pub mod index_spec;
mod indexes;
mod lance_table;
mod lock;
mod maintenance;
pub mod progress;
pub mod scan_cache;
mod store;
mod txn;
mod unique;

pub use catalog::{
    Catalog, ColumnMeta, ConstraintKind, ConstraintMeta, ForeignKeyMeta, IndexMeta, QualifiedName, SequenceMeta, TableMeta, ViewMeta,
};
pub use comment::CommentTarget;
pub use deferred::ConstraintModes;
pub use error::{Error, Error as StorageError, Result};
pub use indexes::NewIndex;
pub use lance::dataset::Dataset;
pub use lance_table::LanceTable;
pub use store::{AlterOp, DropKind, NewTable, RowChange, Storage, table_schema};
pub use txn::{Txn, TxnView};

/// Lance's name for the row-address column a scan can add; DML uses it to find rows.
pub const ROW_ADDR: &str = "_rowaddr";
