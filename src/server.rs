//! The listener: accepts connections up to `max_connections`, hands each to the wire layer, and
//! shuts down gracefully on SIGINT/SIGTERM (stop accepting, let running statements finish).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quartzdb_planner::Engine;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::wire::cancel::CancelRegistry;
use crate::wire::{Connection, Handlers};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open data directory: {0}")]
    Open(#[from] quartzdb_planner::Error),
}

/// How long shutdown waits for open connections before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Runs the server until SIGINT or SIGTERM.
pub async fn run_until_signal(config: Config) -> Result<(), ServerError> {
    let listener = TcpListener::bind(config.listen).await.map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let engine = Engine::open(&config.data_dir).await?;
    if let Some(mb) = config.scan_cache_mb {
        engine.storage().scan_cache().set_budget(mb << 20);
    }
    run(listener, engine, &config, shutdown_signal()).await;
    Ok(())
}

/// Serves connections from `listener` until `shutdown` resolves. Tests call this directly with a
/// listener on port 0.
pub async fn run(listener: TcpListener, engine: Arc<Engine>, config: &Config, shutdown: impl Future<Output = ()>) {
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(listen = %addr, data_dir = %engine.storage().root().display(), "QuartzDB {} ready", env!("CARGO_PKG_VERSION"));
    let registry = Arc::new(CancelRegistry::default());
    // pg_cancel_backend() signals a connection as a CancelRequest does; pg_terminate_backend()
    // also ends it.
    let signals = registry.clone();
    engine.activity().set_canceller(move |pid, terminate| signals.signal_pid(pid, terminate));
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let _ = socket.set_nodelay(true);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(socket));
            continue;
        };
        let connection = Connection::new(engine.clone(), registry.clone(), config.allow_remote);
        let signals = connection.signals();
        // A second handle on the socket tells the client why pg_terminate_backend closed it.
        let Some((socket, farewell)) = with_second_handle(socket) else { continue };
        connections.spawn(async move {
            tokio::select! {
                biased;
                // Dropping the connection (and a statement it runs) rolls back its transaction.
                _ = signals.terminated() => {
                    tracing::info!(%peer, "connection terminated by pg_terminate_backend");
                    if let Ok(socket) = TcpStream::from_std(farewell) {
                        fatal(socket, "57P01", "terminating connection due to administrator command").await;
                    }
                }
                ended = pgwire::tokio::process_socket(socket, None, Handlers(connection)) => {
                    if let Err(e) = ended {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
            }
            drop(permit);
        });
    }
    tracing::info!(open = connections.len(), "shutting down: no new connections");
    if tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!("closing connections still open after {SHUTDOWN_GRACE:?}");
        connections.shutdown().await;
    }
    // Maintenance a last commit started finishes (it holds the write lock), so the data
    // directory is free for the next server when this returns.
    engine.storage().idle().await;
    tracing::info!("stopped");
}

/// Tells a client over the limit why, as PostgreSQL does (53300), then closes.
async fn refuse(socket: TcpStream) {
    fatal(socket, "53300", "sorry, too many clients already").await;
}

/// `socket` and a second handle on it (a duplicated descriptor), or `None` if that fails.
fn with_second_handle(socket: TcpStream) -> Option<(TcpStream, std::net::TcpStream)> {
    let socket = socket.into_std().ok()?;
    let second = socket.try_clone().ok()?;
    Some((TcpStream::from_std(socket).ok()?, second))
}

/// Sends a FATAL error and closes the connection.
async fn fatal(mut socket: TcpStream, code: &str, message: &str) {
    use pgwire::messages::response::ErrorResponse;
    use pgwire::error::ErrorInfo;
    let info = ErrorInfo::new("FATAL".into(), code.into(), message.into());
    let mut buf = bytes::BytesMut::new();
    if pgwire::messages::Message::encode(&ErrorResponse::from(info), &mut buf).is_ok() {
        let _ = socket.write_all(&buf).await;
    }
    let _ = socket.shutdown().await;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown signal received");
}
