//! Real client libraries against a real server: pgvector-python with psycopg 3, asyncpg and
//! SQLAlchemy (tests/clients/python). Their packages live in a virtual environment cached
//! under `~/.cache/quartzdb/` and rebuilt when `requirements.txt` changes.
//!
//! Without python3 the test says so and passes, so `cargo test` works on a machine that has
//! only Rust; under CI (`CI` set) a missing python3 is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{TestServer, run};

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python")
}

/// The cached environment's python, created or refreshed as needed; `None` without python3.
fn client_python() -> Option<PathBuf> {
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "python3 is needed for the client tests under CI");
        eprintln!("SKIPPED: python3 not found; the Python client tests did not run");
        return None;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let venv = home.join(".cache/quartzdb/python-clients");
    let requirements = std::fs::read_to_string(python_dir().join("requirements.txt")).expect("requirements.txt");
    let stamp = venv.join("quartzdb-requirements.txt");
    let python = venv.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(requirements.as_str()) || !python.exists() {
        let _ = std::fs::remove_dir_all(&venv);
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 -m venv").success();
        assert!(ok, "could not create {}", venv.display());
        let ok = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(python_dir().join("requirements.txt"))
            .status()
            .expect("pip")
            .success();
        assert!(ok, "pip install of the client packages failed");
        std::fs::write(&stamp, &requirements).expect("stamp");
    }
    Some(python)
}

#[test]
fn pgvector_python_clients_work() {
    let Some(python) = client_python() else { return };
    run(async move {
        let server = TestServer::start().await;
        let dsn = server.url("quartz");
        let script = python_dir().join("test_vector.py");
        let output = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(dsn).output().expect("run python"))
            .await
            .expect("join");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "client tests failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("10 passed, 0 failed"), "unexpected client test output:\n{stdout}");
        server.stop().await;
    });
}
