//! The QuartzDB server: configuration, the listener and connections, the PostgreSQL wire layer
//! (`wire`, so that `pgwire` always means the crate), Arrow → wire encoding and the one
//! SQLSTATE mapping.
//!
//! The request path: [`server`] accepts a socket → [`wire`] speaks protocol v3 through `pgwire` →
//! `quartzdb_planner::Session` parses, plans and executes → results stream back as Arrow batches
//! encoded by `arrow-pg`.

pub mod config;
pub mod server;
pub mod sqlstate;
pub mod wire;
