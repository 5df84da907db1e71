//! Runs every `sqllogictest/**/*.slt` file against a fresh server over the wire.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::harness::{TestServer, run};

struct Wire {
    client: Client,
}

#[derive(Debug)]
struct WireError(tokio_postgres::Error);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `statement error <regex>` matches against this: lead with the SQLSTATE.
        match self.0.as_db_error() {
            Some(db) => write!(f, "{}: {}", db.code().code(), db.message()),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for WireError {}

#[async_trait]
impl AsyncDB for Wire {
    type Error = WireError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let messages = self.client.simple_query(sql).await.map_err(WireError)?;
        let mut rows = Vec::new();
        let mut width = None;
        let mut count = 0;
        for m in messages {
            match m {
                SimpleQueryMessage::RowDescription(cols) => width = Some(cols.len()),
                SimpleQueryMessage::Row(r) => {
                    width = Some(r.len());
                    rows.push(
                        (0..r.len())
                            .map(|i| match r.get(i) {
                                None => "NULL".to_string(),
                                Some("") => "(empty)".to_string(),
                                Some(v) => v.to_string(),
                            })
                            .collect(),
                    );
                }
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        match width {
            Some(w) => Ok(DBOutput::Rows { types: vec![DefaultColumnType::Any; w], rows }),
            None => Ok(DBOutput::StatementComplete(count)),
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "quartzdb"
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

#[test]
fn sqllogictest_files_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sqllogictest");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.sort();
    // `QUARTZ_SLT=vector cargo test …` runs only the files whose path contains `vector`.
    if let Ok(only) = std::env::var("QUARTZ_SLT") {
        files.retain(|f| f.to_string_lossy().contains(&only));
    }
    assert!(!files.is_empty() && (std::env::var("QUARTZ_SLT").is_ok() || files.len() >= 8), "expected the sqllogictest suite under {}", root.display());
    run(async {
        let mut failures = Vec::new();
        for file in &files {
            let server = TestServer::start().await;
            let client = server.client().await;
            let mut runner = sqllogictest::Runner::new(|| {
                let c = client_clone(&server);
                async move { Ok(Wire { client: c.await }) }
            });
            if let Err(e) = runner.run_file_async(file).await {
                failures.push(format!("{}:\n{e}", file.display()));
            }
            drop(client);
            server.stop().await;
        }
        assert!(failures.is_empty(), "{} file(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
    });
}

fn client_clone(server: &TestServer) -> impl std::future::Future<Output = Client> + 'static {
    let url = server.url("quartz");
    async move { crate::harness::connect(&url).await.expect("connect") }
}
