//! Real client libraries against a real server: pgvector-python with psycopg 3, asyncpg and
//! SQLAlchemy (tests/clients/python), node-postgres with pgvector-node (tests/clients/node), and
//! the PostgreSQL JDBC driver (tests/clients/java, Debian's libpostgresql-jdbc-java), which also
//! replays the catalog queries DBeaver and Metabase send through it.
//! Their packages live under `~/.cache/quartzdb/` (a virtual environment, a node_modules, the
//! compiled Java test) and are installed again when their manifest changes.
//!
//! Without python3, node or a JDK a test says so and passes, so `cargo test` works on a machine
//! that has only Rust; under CI (`CI` set) a missing one is a failure (the JDBC jar is then
//! installed with apt).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{TestServer, run};

fn clients_dir(language: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(language)
}

/// Whether `program` runs here; under CI it must.
fn available(program: &str) -> bool {
    if Command::new(program).arg("--version").output().is_ok() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{program} is needed for the client tests under CI");
    eprintln!("SKIPPED: {program} not found; its client tests did not run");
    false
}

/// `~/.cache/quartzdb/<name>`, filled by `fill` when the `manifests` changed since the last
/// fill or `ready` (a path inside it) is missing.
fn installed(name: &str, manifests: &[PathBuf], ready: &str, fill: impl FnOnce(&Path)) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = home.join(".cache/quartzdb").join(name);
    let wanted: String = manifests.iter().map(|m| std::fs::read_to_string(m).expect("client manifest")).collect();
    let stamp = dir.join("quartzdb-manifest");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) || !dir.join(ready).exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("client cache dir");
        fill(&dir);
        std::fs::write(&stamp, &wanted).expect("stamp");
    }
    dir
}

/// Runs a client script (`command`, given the server's address as its last argument) against a
/// fresh server and checks that it reports `expected`.
fn run_client(mut command: Command, address: impl FnOnce(&TestServer) -> String, expected: &'static str) {
    run(async move {
        let server = TestServer::start().await;
        command.arg(address(&server));
        let output = tokio::task::spawn_blocking(move || command.output().expect("run client")).await.expect("join");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "client tests failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains(expected), "unexpected client test output:\n{stdout}");
        server.stop().await;
    });
}

#[test]
fn pgvector_python_clients_work() {
    if !available("python3") {
        return;
    }
    let requirements = clients_dir("python").join("requirements.txt");
    let venv = installed("python-clients", std::slice::from_ref(&requirements), "bin/python", |dir| {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(dir).status().expect("python3 -m venv").success();
        assert!(ok, "could not create {}", dir.display());
        let ok = Command::new(dir.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements)
            .status()
            .expect("pip")
            .success();
        assert!(ok, "pip install of the client packages failed");
    });
    let mut command = Command::new(venv.join("bin/python"));
    command.arg(clients_dir("python").join("test_vector.py"));
    run_client(command, |server| server.url("quartz"), "18 passed, 0 failed");
}

#[test]
fn node_postgres_clients_work() {
    if !available("node") || !available("npm") {
        return;
    }
    let package = clients_dir("node").join("package.json");
    let dir = installed("node-clients", std::slice::from_ref(&package), "node_modules", |dir| {
        std::fs::copy(&package, dir.join("package.json")).expect("package.json");
        let ok = Command::new("npm").args(["install", "--silent", "--no-audit", "--no-fund"]).current_dir(dir).status().expect("npm").success();
        assert!(ok, "npm install of the client packages failed");
    });
    let mut command = Command::new("node");
    command.arg(clients_dir("node").join("test_node.js")).env("NODE_PATH", dir.join("node_modules"));
    run_client(command, |server| format!("postgresql://quartz@{}:{}/quartz", server.addr.ip(), server.addr.port()), "3 passed, 0 failed");
}

/// Debian's JDBC driver (libpostgresql-jdbc-java), installed with apt under CI when missing.
fn jdbc_jar() -> Option<PathBuf> {
    let jar = PathBuf::from("/usr/share/java/postgresql.jar");
    if jar.exists() {
        return Some(jar);
    }
    if std::env::var_os("CI").is_none() {
        eprintln!("SKIPPED: {} not found (Debian's libpostgresql-jdbc-java); the JDBC tests did not run", jar.display());
        return None;
    }
    let install = || Command::new("apt-get").args(["install", "-y", "-q", "libpostgresql-jdbc-java"]).status().is_ok_and(|s| s.success());
    if !install() {
        let _ = Command::new("apt-get").args(["update", "-q"]).status();
        assert!(install(), "apt-get could not install libpostgresql-jdbc-java");
    }
    assert!(jar.exists(), "{} missing after installing libpostgresql-jdbc-java", jar.display());
    Some(jar)
}

#[test]
fn jdbc_clients_work() {
    if !available("javac") || !available("java") {
        return;
    }
    let Some(jar) = jdbc_jar() else { return };
    // ClientTest.java and ToolReplay.java (DBeaver's and Metabase's catalog queries).
    let mut sources: Vec<PathBuf> = std::fs::read_dir(clients_dir("java")).expect("java clients").map(|e| e.expect("entry").path()).filter(|p| p.extension().is_some_and(|e| e == "java")).collect();
    sources.sort();
    let classes = installed("java-clients", &sources, "ClientTest.class", |dir| {
        let ok = Command::new("javac").arg("-d").arg(dir).arg("-cp").arg(&jar).args(&sources).status().expect("javac").success();
        assert!(ok, "javac failed");
    });
    let mut command = Command::new("java");
    command.arg("-cp").arg(format!("{}:{}", jar.display(), classes.display())).arg("ClientTest");
    run_client(command, |server| format!("jdbc:postgresql://{}:{}/quartz?user=quartz", server.addr.ip(), server.addr.port()), "8 passed, 0 failed");
}
