//! Starting servers for tests: in-process on 127.0.0.1:0 with a temporary data directory, or as
//! a child process (for crash tests).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quartzdb::config::Config;
use tokio::sync::oneshot;
use tokio_postgres::{Client, NoTls};

/// Uniform numbers in [0, 1) from a seeded xorshift, so a test's data is the same every run.
pub fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runs a test body on a runtime whose threads have room for DataFusion's recursion in debug
/// builds (the server runs on it too).
pub fn run<F: Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test)
}

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub async fn start() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_in(temp.path()).await;
        server._temp = Some(temp);
        server
    }

    /// Starts a server on an existing (or new) data directory.
    pub async fn start_in(dir: &Path) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = Config { data_dir: dir.to_path_buf(), listen: addr, max_connections: 20, log: "warn".into(), allow_remote: false, scan_cache_mb: None };
        let engine = quartzdb_planner::Engine::open(dir).await.expect("engine opens");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            quartzdb::server::run(listener, engine, &config, async {
                let _ = rx.await;
            })
            .await;
        });
        Self { addr, shutdown: Some(tx), task: Some(task), _temp: None }
    }

    pub fn url(&self, database: &str) -> String {
        format!("host={} port={} user=quartz dbname={database}", self.addr.ip(), self.addr.port())
    }

    /// A tokio-postgres client on database `quartz`.
    pub async fn client(&self) -> Client {
        connect(&self.url("quartz")).await.expect("connect")
    }

    /// Stops the server gracefully and returns its temporary directory, if it owns one.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        self._temp.take()
    }
}

pub async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(err: &tokio_postgres::Error) -> String {
    err.code().map(|c| c.code().to_string()).unwrap_or_else(|| format!("no SQLSTATE: {err}"))
}

/// What psql prints for `command` (a backslash command or SQL) on database `quartz`, or `None`
/// when psql is not installed (a failure under CI, where it is). psql must succeed and print
/// nothing on stderr.
pub fn psql(server: &TestServer, command: &str) -> Option<String> {
    let out = match Command::new("psql")
        .args(["-X", "-h", &server.addr.ip().to_string(), "-p", &server.addr.port().to_string(), "-U", "quartz", "-d", "quartz", "-c", command])
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "psql is needed for the psql tests under CI");
            eprintln!("SKIPPED: psql not found");
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "psql {command}: {stderr}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A QuartzDB server as a child process (the real binary), for tests that kill it.
pub struct ChildServer {
    pub child: Child,
    pub port: u16,
}

impl ChildServer {
    pub fn start(data_dir: &Path) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_quartzdb"))
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("QUARTZDB_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("quartzdb starts");
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("host=127.0.0.1 port={} user=quartz dbname=quartz", self.port)
    }

    /// Waits until the server accepts connections.
    pub async fn client(&self) -> Client {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match connect(&self.url()).await {
                Ok(c) => return c,
                Err(e) if Instant::now() > deadline => panic!("server did not come up: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        self.child.wait().expect("exits")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}
