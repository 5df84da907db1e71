//! Server configuration: command line, `QUARTZDB_*` environment variables and an optional TOML file.
//!
//! Precedence, highest first: command-line flag, environment variable, config file, built-in default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

/// Built-in defaults, named so that `--help`, the docs and the code agree.
pub mod defaults {
    pub const DATA_DIR: &str = "quartz-data";
    /// 5433 rather than 5432 so QuartzDB can run beside a local PostgreSQL.
    pub const LISTEN: &str = "127.0.0.1:5433";
    pub const MAX_CONNECTIONS: usize = 100;
    /// Lance logs every dataset load at info; its warnings are what matter to an operator.
    pub const LOG: &str = "info,lance=warn";
}

/// QuartzDB: a PostgreSQL-wire-compatible SQL database with vector search.
#[derive(Debug, Parser)]
#[command(name = "quartzdb", version, about)]
pub struct Args {
    /// Directory holding the catalog and the tables [default: ./quartz-data]
    #[arg(long, env = "QUARTZDB_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:5433]
    #[arg(long, env = "QUARTZDB_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Maximum number of concurrent client connections [default: 100]
    #[arg(long, env = "QUARTZDB_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Log filter, in tracing's EnvFilter syntax [default: info,lance=warn]
    #[arg(long, env = "QUARTZDB_LOG")]
    pub log: Option<String>,

    /// Accept connections from non-loopback addresses. There are no passwords yet, so every
    /// client that can reach the port is trusted [default: false]
    #[arg(long, env = "QUARTZDB_ALLOW_REMOTE")]
    pub allow_remote: Option<bool>,

    /// Memory for decoded table columns kept between scans, in MiB [default: a quarter of RAM]
    #[arg(long, env = "QUARTZDB_SCAN_CACHE_MB")]
    pub scan_cache_mb: Option<usize>,

    /// Optional TOML file with the same settings (data_dir, listen, max_connections, log,
    /// allow_remote, scan_cache_mb)
    #[arg(long, env = "QUARTZDB_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The settings as read from a TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    max_connections: Option<usize>,
    log: Option<String>,
    allow_remote: Option<bool>,
    scan_cache_mb: Option<usize>,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub max_connections: usize,
    pub log: String,
    /// Trust connections from any address (only loopback ones otherwise).
    pub allow_remote: bool,
    /// Budget of the scan cache in MiB; `None` keeps storage's default (a quarter of RAM).
    pub scan_cache_mb: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(defaults::DATA_DIR),
            listen: defaults::LISTEN.parse().expect("default listen address parses"),
            max_connections: defaults::MAX_CONNECTIONS,
            log: defaults::LOG.to_string(),
            allow_remote: false,
            scan_cache_mb: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("max_connections must be at least 1")]
    ZeroConnections,
}

impl Config {
    /// Resolves the configuration from parsed arguments (which already include the environment).
    pub fn resolve(args: Args) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let d = Config::default();
        let config = Config {
            data_dir: args.data_dir.or(file.data_dir).unwrap_or(d.data_dir),
            listen: args.listen.or(file.listen).unwrap_or(d.listen),
            max_connections: args.max_connections.or(file.max_connections).unwrap_or(d.max_connections),
            log: args.log.or(file.log).unwrap_or(d.log),
            allow_remote: args.allow_remote.or(file.allow_remote).unwrap_or(d.allow_remote),
            scan_cache_mb: args.scan_cache_mb.or(file.scan_cache_mb),
        };
        if config.max_connections == 0 {
            return Err(ConfigError::ZeroConnections);
        }
        Ok(config)
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_path_buf(), source: Box::new(source) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("quartzdb").chain(list.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let c = Config::resolve(args(&[])).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("quartz-data"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:5433");
        assert_eq!(c.max_connections, 100);
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "data_dir = \"/from/file\"\nlisten = \"127.0.0.1:7000\"\n").unwrap();
        let c = Config::resolve(args(&["--config", file.to_str().unwrap(), "--listen", "127.0.0.1:7001"])).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        assert_eq!(c.listen.port(), 7001);
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "data_dri = \"x\"\n").unwrap();
        assert!(matches!(Config::resolve(args(&["--config", file.to_str().unwrap()])), Err(ConfigError::Parse { .. })));
    }
}
