//! The `quartzdb` server binary: parse configuration, start logging, serve until SIGINT/SIGTERM.

use clap::Parser;
use quartzdb::config::{Args, Config};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let config = match Config::resolve(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quartzdb: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("quartzdb")
        // DataFusion plans recurse deeply; debug builds need more than the 2 MiB default.
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(quartzdb::server::run_until_signal(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
