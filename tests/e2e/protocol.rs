//! The wire protocol: startup, simple and extended query, types, errors, cancel.

use std::time::Duration;

use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::types::Type;

use crate::harness::{TestServer, connect, run, sqlstate};

#[test]
fn startup_reports_parameters_and_unknown_database_is_3d000() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let rows = client.simple_query("SELECT version()").await.unwrap();
        let SimpleQueryMessage::Row(row) = &rows[1] else { panic!("{rows:?}") };
        let version = row.get(0).unwrap();
        assert!(version.starts_with("PostgreSQL 15"), "{version}");
        assert!(version.contains("QuartzDB"), "{version}");
        let row = client.query_one("SHOW server_version", &[]).await.unwrap();
        assert_eq!(row.get::<_, String>(0), "15.0");

        let err = connect(&server.url("nope")).await.unwrap_err();
        assert_eq!(sqlstate(&err), "3D000");
        let err = connect(&format!("host=127.0.0.1 port={} user=nobody dbname=quartz", server.addr.port())).await.unwrap_err();
        assert_eq!(sqlstate(&err), "28000");
        // The other default database exists too.
        connect(&server.url("postgres")).await.unwrap();
        server.stop().await;
    });
}

#[test]
fn simple_query_runs_several_statements_and_stops_at_the_first_error() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let msgs = client
            .simple_query("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2); SELECT a FROM t ORDER BY a; DELETE FROM t")
            .await
            .unwrap();
        let tags: Vec<u64> = msgs.iter().filter_map(|m| if let SimpleQueryMessage::CommandComplete(n) = m { Some(*n) } else { None }).collect();
        assert_eq!(tags, vec![0, 2, 2, 2]);
        let rows: Vec<&str> = msgs.iter().filter_map(|m| if let SimpleQueryMessage::Row(r) = m { r.get(0) } else { None }).collect();
        assert_eq!(rows, vec!["1", "2"], "the SELECT saw the rows before the DELETE ran");

        let err = client.simple_query("INSERT INTO t VALUES (3); SELECT 1/0; INSERT INTO t VALUES (4)").await.unwrap_err();
        assert_eq!(sqlstate(&err), "22012");
        let n = client.query_one("SELECT count(*) FROM t", &[]).await.unwrap().get::<_, i64>(0);
        assert_eq!(n, 1, "statements before the error ran, those after did not");
        server.stop().await;
    });
}

#[test]
fn extended_protocol_binds_binary_parameters_and_reports_types() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute("CREATE TABLE p (id bigint PRIMARY KEY, name text, score double precision, ok boolean, born date, at timestamptz, small smallint, n integer)")
            .await
            .unwrap();
        let stmt = client.prepare("INSERT INTO p (id, name, score, ok, small, n) VALUES ($1, $2, $3, $4, $5, $6)").await.unwrap();
        assert_eq!(stmt.params(), &[Type::INT8, Type::TEXT, Type::FLOAT8, Type::BOOL, Type::INT2, Type::INT4]);
        for i in 0..3i64 {
            let n = client.execute(&stmt, &[&i, &format!("n{i}"), &(i as f64 * 1.5), &(i % 2 == 0), &(i as i16), &(i as i32)]).await.unwrap();
            assert_eq!(n, 1);
        }
        let select = client.prepare("SELECT id, name, score, ok, small, n FROM p WHERE id >= $1 ORDER BY id").await.unwrap();
        let types: Vec<Type> = select.columns().iter().map(|c| c.type_().clone()).collect();
        assert_eq!(types, vec![Type::INT8, Type::TEXT, Type::FLOAT8, Type::BOOL, Type::INT2, Type::INT4]);
        let rows = client.query(&select, &[&1i64]).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get::<_, String>(1), "n1");
        assert_eq!(rows[1].get::<_, f64>(2), 3.0);
        assert!(!rows[0].get::<_, bool>(3));
        assert_eq!(rows[1].get::<_, i16>(4), 2);

        // Integer literals are typed as PostgreSQL types them.
        let literals = client.prepare("SELECT 1, 3000000000").await.unwrap();
        let types: Vec<Type> = literals.columns().iter().map(|c| c.type_().clone()).collect();
        assert_eq!(types, vec![Type::INT4, Type::INT8]);

        // Parameters inside a cast and in UPDATE/DELETE.
        let row = client.query_one("SELECT $1::bigint + 1", &[&41i64]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), 42);
        let n = client.execute("UPDATE p SET score = $1 WHERE id = $2", &[&10.0f64, &0i64]).await.unwrap();
        assert_eq!(n, 1);
        let n = client.execute("DELETE FROM p WHERE name = $1", &[&"n2"]).await.unwrap();
        assert_eq!(n, 1);
        let row = client.query_one("SELECT score FROM p WHERE id = 0", &[]).await.unwrap();
        assert_eq!(row.get::<_, f64>(0), 10.0);

        // Upsert through the extended protocol, RETURNING through the table's alias.
        let rows = client
            .query(
                "INSERT INTO p AS q (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING q.id, q.name",
                &[&0i64, &"renamed"],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get::<_, String>(1), "renamed");
        server.stop().await;
    });
}

#[test]
fn errors_carry_the_right_sqlstate_and_the_session_goes_on() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute("CREATE TABLE e (id int PRIMARY KEY, v varchar(3) NOT NULL)").await.unwrap();
        client.batch_execute("INSERT INTO e VALUES (1, 'a')").await.unwrap();
        let cases = [
            ("SELEC 1", "42601"),
            ("SELECT * FROM missing", "42P01"),
            ("SELECT nope FROM e", "42703"),
            ("SELECT no_such_function(1)", "42883"),
            ("INSERT INTO e VALUES (1, 'b')", "23505"),
            ("INSERT INTO e VALUES (2, NULL)", "23502"),
            ("INSERT INTO e VALUES (2, 'toolong')", "22001"),
            ("SELECT 1/0", "22012"),
            ("SELECT 'abc'::int", "22P02"),
            ("CREATE TABLE e (x int)", "42P07"),
            ("SET no_such_setting = 1", "42704"),
        ];
        for (sql, code) in cases {
            let err = client.batch_execute(sql).await.expect_err(sql);
            assert_eq!(sqlstate(&err), code, "{sql}: {err}");
        }
        // A unique violation says which key, as PostgreSQL does.
        let err = client.batch_execute("INSERT INTO e VALUES (1, 'c')").await.unwrap_err();
        let db = err.as_db_error().unwrap();
        assert_eq!(db.constraint().or(Some(db.message())).is_some(), true);
        assert_eq!(db.detail(), Some("Key (id)=(1) already exists."));
        let n = client.query_one("SELECT count(*) FROM e", &[]).await.unwrap().get::<_, i64>(0);
        assert_eq!(n, 1);
        server.stop().await;
    });
}

/// A query that runs far longer than any test (every row is computed; DataFusion cannot skip it).
const ENDLESS: &str = "SELECT sum(generate_series % 7) FROM generate_series(1, 1000000000000)";

#[test]
fn cancel_request_stops_a_running_query() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let token = client.cancel_token();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        });
        // Long enough that it cannot finish before the cancel arrives.
        let err = tokio::time::timeout(Duration::from_secs(120), client.simple_query(ENDLESS))
            .await
            .expect("the cancel stopped the query")
            .unwrap_err();
        assert_eq!(sqlstate(&err), "57014", "{err}");
        canceller.await.unwrap();
        // The connection is still usable.
        let row = client.query_one("SELECT 1", &[]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 1, "integer literals are int4, as in PostgreSQL");
        server.stop().await;
    });
}

#[test]
fn statement_timeout_cancels_with_57014() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute("SET statement_timeout = 200").await.unwrap();
        let err = tokio::time::timeout(Duration::from_secs(120), client.simple_query(ENDLESS))
            .await
            .expect("the timeout stopped the query")
            .unwrap_err();
        assert_eq!(sqlstate(&err), "57014");
        server.stop().await;
    });
}

#[test]
fn ssl_and_gssenc_requests_are_answered_n() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let server = TestServer::start().await;
        for code in [80877103i32, 80877104] {
            let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let mut request = 8i32.to_be_bytes().to_vec();
            request.extend(code.to_be_bytes());
            socket.write_all(&request).await.unwrap();
            let mut answer = [0u8; 1];
            socket.read_exact(&mut answer).await.unwrap();
            assert_eq!(answer[0], b'N', "request code {code}");
        }
        server.stop().await;
    });
}
