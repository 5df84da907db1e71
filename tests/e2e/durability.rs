//! Durability: data survives restarts, graceful or not.

use std::time::Duration;

use crate::harness::{ChildServer, TestServer, run};
use crate::sql::text_rows;

#[test]
fn everything_survives_a_restart() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_in(dir.path()).await;
        let client = server.client().await;
        client
            .batch_execute(
                "CREATE SCHEMA s;
                 CREATE TABLE s.t (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2) DEFAULT 0, took interval);
                 INSERT INTO s.t (name, price, took) VALUES ('a', 1.25, '1 day'), ('b', 2.50, '1 mon -02:00:00.25');
                 INSERT INTO s.t (name) VALUES ('c');
                 UPDATE s.t SET price = 9.99 WHERE name = 'b';
                 DELETE FROM s.t WHERE name = 'a';
                 CREATE VIEW s.v AS SELECT name FROM s.t WHERE price > 1;",
            )
            .await
            .unwrap();
        drop(client);
        server.stop().await;

        let server = TestServer::start_in(dir.path()).await;
        let client = server.client().await;
        assert_eq!(text_rows(&client, "SELECT id, name, price FROM s.t ORDER BY id").await, vec![vec!["2", "b", "9.99"], vec!["3", "c", "0.00"]]);
        // Interval columns are stored encoded (Lance has no interval type) and read back whole.
        assert_eq!(text_rows(&client, "SELECT took FROM s.t ORDER BY id").await, vec![vec!["1 mon -02:00:00.25"], vec!["NULL"]]);
        assert_eq!(text_rows(&client, "SELECT * FROM s.v").await, vec![vec!["b"]]);
        // The sequence continues where it stopped; constraints still hold.
        client.batch_execute("INSERT INTO s.t (name) VALUES ('d')").await.unwrap();
        assert_eq!(text_rows(&client, "SELECT id FROM s.t WHERE name = 'd'").await, vec![vec!["4"]]);
        assert!(client.batch_execute("INSERT INTO s.t (id, name) VALUES (2, 'dup')").await.is_err());
        server.stop().await;
    });
}

#[test]
fn acknowledged_rows_survive_kill_9() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let server = ChildServer::start(dir.path());
        let client = server.client().await;
        client.batch_execute("CREATE TABLE k (id bigint PRIMARY KEY, payload text)").await.unwrap();
        // Write from a task and kill the server while it writes; count what was acknowledged.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let writer = tokio::spawn(async move {
            for i in 0..100_000i64 {
                match client.execute("INSERT INTO k VALUES ($1, $2)", &[&i, &format!("row {i}")]).await {
                    Ok(_) => {
                        let _ = tx.send(i);
                    }
                    Err(_) => break,
                }
            }
        });
        let mut acked = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while acked.len() < 150 && tokio::time::Instant::now() < deadline {
            if let Ok(Some(i)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
                acked.push(i);
            }
        }
        server.kill9();
        let _ = writer.await;
        while let Ok(i) = rx.try_recv() {
            acked.push(i);
        }
        assert!(acked.len() >= 20, "the writer made progress before the kill ({} rows)", acked.len());

        let server = ChildServer::start(dir.path());
        let client = server.client().await;
        let rows = client.query("SELECT id FROM k ORDER BY id", &[]).await.unwrap();
        let present: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        for i in &acked {
            assert!(present.binary_search(i).is_ok(), "acknowledged row {i} was lost");
        }
        // At most the one in-flight row beyond the acknowledged ones, and no duplicates.
        assert!(present.len() <= acked.len() + 1, "{} rows present, {} acknowledged", present.len(), acked.len());
        // The table is writable after recovery.
        client.execute("INSERT INTO k VALUES (-1, 'after')", &[]).await.unwrap();
        let status = server.terminate();
        assert!(status.success(), "SIGTERM shuts down cleanly: {status:?}");
    });
}
