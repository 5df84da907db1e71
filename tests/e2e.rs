//! End-to-end tests: a real QuartzDB server on a loopback socket, real clients.
//!
//! One test binary (see Cargo.toml); the modules under `tests/e2e/` group the tests by area.

#[path = "e2e/harness.rs"]
mod harness;

#[path = "e2e/catalog.rs"]
mod catalog;
#[path = "e2e/clients.rs"]
mod clients;
#[path = "e2e/copy.rs"]
mod copy;
#[path = "e2e/durability.rs"]
mod durability;
#[path = "e2e/exact_search.rs"]
mod exact_search;
#[path = "e2e/protocol.rs"]
mod protocol;
#[path = "e2e/slt.rs"]
mod slt;
#[path = "e2e/sql.rs"]
mod sql;
#[path = "e2e/transactions.rs"]
mod transactions;
#[path = "e2e/vector_index.rs"]
mod vector_index;
