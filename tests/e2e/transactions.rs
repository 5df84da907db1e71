//! Transaction blocks that write: visibility, rollback, savepoints, concurrency, locks, crashes.

use std::time::Duration;

use tokio_postgres::GenericClient;

use crate::harness::{ChildServer, TestServer, connect, run, sqlstate};

async fn count(client: &impl GenericClient, table: &str) -> i64 {
    client.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0)
}

#[test]
fn a_block_sees_its_writes_others_see_them_at_commit_and_rollback_discards_them() {
    run(async {
        let server = TestServer::start().await;
        let mut a = server.client().await;
        let b = server.client().await;
        a.batch_execute("CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL); CREATE TABLE audit (n int); INSERT INTO acct VALUES (1, 100), (2, 0)")
            .await
            .unwrap();

        // A transfer over two tables, through a driver's transaction (extended protocol).
        let tx = a.transaction().await.unwrap();
        tx.execute("UPDATE acct SET balance = balance - 30 WHERE id = 1", &[]).await.unwrap();
        tx.execute("UPDATE acct SET balance = balance + 30 WHERE id = 2", &[]).await.unwrap();
        tx.execute("INSERT INTO audit VALUES ($1)", &[&30i32]).await.unwrap();
        let own: i32 = tx.query_one("SELECT balance FROM acct WHERE id = 2", &[]).await.unwrap().get(0);
        assert_eq!(own, 30, "the block reads its own update");
        let theirs: i32 = b.query_one("SELECT balance FROM acct WHERE id = 2", &[]).await.unwrap().get(0);
        assert_eq!(theirs, 0, "another session does not see it before COMMIT");
        assert_eq!(count(&b, "audit").await, 0);
        tx.commit().await.unwrap();
        let balances: Vec<i32> = b.query("SELECT balance FROM acct ORDER BY id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(balances, [70, 30]);
        assert_eq!(count(&b, "audit").await, 1);

        // ROLLBACK leaves nothing behind, in either table; the key set forgets the rolled-back key.
        let tx = a.transaction().await.unwrap();
        tx.execute("INSERT INTO acct VALUES (3, 5)", &[]).await.unwrap();
        tx.execute("DELETE FROM audit", &[]).await.unwrap();
        assert_eq!(count(&tx, "audit").await, 0);
        tx.rollback().await.unwrap();
        assert_eq!(count(&b, "acct").await, 2);
        assert_eq!(count(&b, "audit").await, 1);
        b.execute("INSERT INTO acct VALUES (3, 5)", &[]).await.unwrap();

        // A unique violation inside a block is caught at the statement, not at COMMIT.
        a.batch_execute("BEGIN; INSERT INTO acct VALUES (4, 1)").await.unwrap();
        let err = a.batch_execute("INSERT INTO acct VALUES (4, 2)").await.unwrap_err();
        assert_eq!(sqlstate(&err), "23505");
        assert_eq!(sqlstate(&a.batch_execute("SELECT 1").await.unwrap_err()), "25P02");
        let rows = a.simple_query("COMMIT").await.unwrap();
        assert!(matches!(&rows[0], tokio_postgres::SimpleQueryMessage::CommandComplete(0)), "a failed block's COMMIT rolls back");
        assert_eq!(count(&b, "acct").await, 3);
        server.stop().await;
    });
}

#[test]
fn savepoints_undo_part_of_a_block() {
    run(async {
        let server = TestServer::start().await;
        let mut client = server.client().await;
        client.batch_execute("CREATE TABLE t (id int PRIMARY KEY)").await.unwrap();
        let mut tx = client.transaction().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
        {
            // tokio-postgres' nested transaction is a SAVEPOINT; its drop is ROLLBACK TO.
            let inner = tx.transaction().await.unwrap();
            inner.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
            let err = inner.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap_err();
            assert_eq!(sqlstate(&err), "23505");
        }
        tx.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
        {
            let inner = tx.transaction().await.unwrap();
            inner.execute("INSERT INTO t VALUES (3)", &[]).await.unwrap();
            inner.commit().await.unwrap();
        }
        tx.commit().await.unwrap();
        let ids: Vec<i32> = client.query("SELECT id FROM t ORDER BY id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(ids, [1, 2, 3]);

        // A savepoint named before the first write rolls back to the block's start.
        client.batch_execute("BEGIN; SAVEPOINT s; DELETE FROM t; ROLLBACK TO SAVEPOINT s; INSERT INTO t VALUES (4); COMMIT").await.unwrap();
        assert_eq!(count(&client, "t").await, 4);
        let err = client.batch_execute("BEGIN; ROLLBACK TO SAVEPOINT nope").await.unwrap_err();
        assert_eq!(sqlstate(&err), "3B001");
        client.batch_execute("ROLLBACK").await.unwrap();
        server.stop().await;
    });
}

#[test]
fn ddl_in_a_block_commits_or_rolls_back_with_it() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let other = server.client().await;
        // As a migration tool runs it: create, fill (serial), index, then decide.
        let migration = "BEGIN;
            CREATE TABLE items (id serial PRIMARY KEY, name text, v vector(2));
            INSERT INTO items (name, v) VALUES ('a', '[1,0]'), ('b', '[0,1]');
            CREATE INDEX ON items (name);
            ALTER TABLE items ADD COLUMN price float8;
            UPDATE items SET price = id * 1.5;";
        client.batch_execute(migration).await.unwrap();
        let seen: i64 = client.query_one("SELECT count(*) FROM pg_class WHERE relname = 'items'", &[]).await.unwrap().get(0);
        assert_eq!(seen, 1, "the block's catalogs show its new table");
        let err = other.query("SELECT * FROM items", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42P01", "others do not see the uncommitted table");
        client.batch_execute("ROLLBACK").await.unwrap();
        let err = client.query("SELECT * FROM items", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42P01");

        client.batch_execute(migration).await.unwrap();
        client.batch_execute("COMMIT").await.unwrap();
        let rows = other.query("SELECT id, name, price FROM items ORDER BY id", &[]).await.unwrap();
        let got: Vec<(i32, String, f64)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        assert_eq!(got, [(1, "a".to_string(), 1.5), (2, "b".to_string(), 3.0)]);
        other.execute("INSERT INTO items (name) VALUES ('c')", &[]).await.unwrap();
        let id: i32 = other.query_one("SELECT id FROM items WHERE name = 'c'", &[]).await.unwrap().get(0);
        assert_eq!(id, 3, "the committed table's sequence continues");

        // DROP in a block: the table is back after ROLLBACK, with its rows.
        client.batch_execute("BEGIN; DROP TABLE items; ROLLBACK").await.unwrap();
        assert_eq!(count(&other, "items").await, 3);
        client.batch_execute("BEGIN; TRUNCATE items; DROP TABLE items; COMMIT").await.unwrap();
        assert_eq!(sqlstate(&other.query("SELECT * FROM items", &[]).await.unwrap_err()), "42P01");
        server.stop().await;
    });
}

#[test]
fn concurrent_increments_are_never_lost() {
    run(async {
        let server = TestServer::start().await;
        let setup = server.client().await;
        setup.batch_execute("CREATE TABLE counter (id int PRIMARY KEY, n bigint); INSERT INTO counter VALUES (1, 0)").await.unwrap();
        const WORKERS: usize = 4;
        const ROUNDS: usize = 10;
        let mut tasks = Vec::new();
        for w in 0..WORKERS {
            let url = server.url("quartz");
            tasks.push(tokio::spawn(async move {
                let mut client = connect(&url).await.unwrap();
                for i in 0..ROUNDS {
                    let tx = client.transaction().await.unwrap();
                    // Read, compute in the client, write back: the pattern a lost update hides in.
                    if (w + i) % 2 == 0 {
                        tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1", &[]).await.unwrap();
                    } else {
                        tx.execute("UPDATE counter SET n = n WHERE id = 1", &[]).await.unwrap();
                        let n: i64 = tx.query_one("SELECT n FROM counter WHERE id = 1", &[]).await.unwrap().get(0);
                        tx.execute("UPDATE counter SET n = $1 WHERE id = 1", &[&(n + 1)]).await.unwrap();
                    }
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let n: i64 = setup.query_one("SELECT n FROM counter", &[]).await.unwrap().get(0);
        assert_eq!(n, (WORKERS * ROUNDS) as i64);
        server.stop().await;
    });
}

#[test]
fn writers_wait_for_an_open_block_and_a_closed_connection_rolls_back() {
    run(async {
        let server = TestServer::start().await;
        let holder = server.client().await;
        let waiter = server.client().await;
        holder.batch_execute("CREATE TABLE t (a int); BEGIN; INSERT INTO t VALUES (1)").await.unwrap();

        // lock_timeout bounds the wait with PostgreSQL's 55P03.
        waiter.batch_execute("SET lock_timeout = '200ms'").await.unwrap();
        let err = waiter.batch_execute("INSERT INTO t VALUES (2)").await.unwrap_err();
        assert_eq!(sqlstate(&err), "55P03");
        waiter.batch_execute("SET lock_timeout = 0").await.unwrap();

        // Without one, the writer waits for the block to end. Readers never wait.
        let url = server.url("quartz");
        let blocked = tokio::spawn(async move {
            let c = connect(&url).await.unwrap();
            c.batch_execute("INSERT INTO t VALUES (3)").await.unwrap();
        });
        assert_eq!(count(&waiter, "t").await, 0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!blocked.is_finished(), "a second writer waits for the open block");
        // The holder goes away without COMMIT: its row is discarded and the lock released.
        drop(holder);
        tokio::time::timeout(Duration::from_secs(30), blocked).await.expect("the waiting writer proceeds").unwrap();
        let rows: Vec<i32> = waiter.query("SELECT a FROM t", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(rows, [3]);
        server.stop().await;
    });
}

#[test]
fn isolation_levels_and_read_only_blocks() {
    run(async {
        let server = TestServer::start().await;
        let a = server.client().await;
        let b = server.client().await;
        a.batch_execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1)").await.unwrap();

        a.batch_execute("BEGIN READ ONLY").await.unwrap();
        let err = a.batch_execute("INSERT INTO t VALUES (2)").await.unwrap_err();
        assert_eq!(sqlstate(&err), "25006");
        a.batch_execute("ROLLBACK; SET default_transaction_isolation = 'serializable'; BEGIN").await.unwrap();
        let level: String = a.query_one("SHOW transaction_isolation", &[]).await.unwrap().get(0);
        assert_eq!(level, "serializable");
        // A serializable block sees one state: a writer elsewhere waits until it ends.
        assert_eq!(count(&a, "t").await, 1);
        let url = server.url("quartz");
        let writer = tokio::spawn(async move {
            let c = connect(&url).await.unwrap();
            c.batch_execute("INSERT INTO t VALUES (5)").await.unwrap();
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(&a, "t").await, 1, "repeatable: nothing committed meanwhile");
        a.batch_execute("COMMIT").await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), writer).await.expect("the writer proceeds").unwrap();
        assert_eq!(count(&b, "t").await, 2);
        let err = a.batch_execute("BEGIN; SELECT 1; SET TRANSACTION ISOLATION LEVEL READ COMMITTED").await.unwrap_err();
        assert_eq!(sqlstate(&err), "25001");
        a.batch_execute("ROLLBACK").await.unwrap();
        server.stop().await;
    });
}

#[test]
fn a_crash_before_commit_loses_the_whole_block_and_after_it_nothing() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let server = ChildServer::start(dir.path());
        let client = server.client().await;
        client.batch_execute("CREATE TABLE a (x int); CREATE TABLE b (x int)").await.unwrap();
        client.batch_execute("BEGIN; INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); COMMIT").await.unwrap();
        client.batch_execute("BEGIN; INSERT INTO a VALUES (2); INSERT INTO b VALUES (2); DELETE FROM a WHERE x = 1").await.unwrap();
        server.kill9();

        let server = ChildServer::start(dir.path());
        let client = server.client().await;
        let a: Vec<i32> = client.query("SELECT x FROM a", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        let b: Vec<i32> = client.query("SELECT x FROM b", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!((a, b), (vec![1], vec![1]), "the committed block survives whole, the open one not at all");
        client.batch_execute("INSERT INTO a VALUES (3)").await.unwrap();
        assert_eq!(count(&client, "a").await, 2);
        server.terminate();
    });
}

#[test]
fn describe_cancel_and_late_errors_inside_a_block() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let other = server.client().await;
        client.batch_execute("CREATE TABLE t (a int)").await.unwrap();

        // A driver's Parse (Describe) of INSERT … RETURNING in a block must not leak the block's
        // uncommitted version to others, not even after ROLLBACK reuses its version number.
        client.batch_execute("BEGIN; INSERT INTO t VALUES (100)").await.unwrap();
        client.prepare("INSERT INTO t VALUES ($1) RETURNING a").await.unwrap();
        client.batch_execute("ROLLBACK").await.unwrap();
        other.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
        let rows: Vec<i32> = client.query("SELECT a FROM t", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(rows, [1]);

        // A write cancelled by statement_timeout fails the block but keeps what came before it.
        client.batch_execute("BEGIN; INSERT INTO t VALUES (2); SAVEPOINT s; SET statement_timeout = '1ms'").await.unwrap();
        let slow = client.batch_execute("INSERT INTO t SELECT i FROM generate_series(1, 3000000) i").await;
        client.batch_execute("SET statement_timeout = 0").await.ok();
        if let Err(e) = slow {
            assert_eq!(sqlstate(&e), "57014");
        }
        client.batch_execute("ROLLBACK TO SAVEPOINT s; SET statement_timeout = 0; INSERT INTO t VALUES (3); COMMIT").await.unwrap();
        let mut rows: Vec<i32> = other.query("SELECT a FROM t", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        rows.sort();
        assert_eq!(rows, [1, 2, 3]);

        // An error raised while RETURNING rows stream fails the block too.
        client.batch_execute("BEGIN").await.unwrap();
        let err = client.query("INSERT INTO t VALUES (0) RETURNING 10 / a", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "22012");
        assert_eq!(sqlstate(&client.batch_execute("SELECT 1").await.unwrap_err()), "25P02");
        client.batch_execute("ROLLBACK").await.unwrap();
        assert_eq!(count(&other, "t").await, 3);
        server.stop().await;
    });
}
