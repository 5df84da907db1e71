//! SQL behaviour over the wire: the README's walkthrough, DML with subqueries, DDL.

use tokio_postgres::SimpleQueryMessage;

use crate::harness::{TestServer, run, sqlstate};

/// Rows of a simple query as text (NULL as "NULL").
pub async fn text_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).unwrap_or("NULL").to_string()).collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_readme_walkthrough_works() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute(
                "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price double precision,
                                     created timestamptz DEFAULT now())",
            )
            .await
            .unwrap();
        let rows = client.query("INSERT INTO items (id, name, price) VALUES (1, 'a', 1.5), (2, 'b', 2.5) RETURNING id, created", &[]).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get::<_, i64>(0), 1);
        let rows = text_rows(&client, "SELECT name, sum(price) OVER (ORDER BY id) FROM items WHERE price > 1 ORDER BY id").await;
        assert_eq!(rows, vec![vec!["a", "1.5"], vec!["b", "4"]]);
        let rows = text_rows(&client, "UPDATE items SET price = price * 2 WHERE id = 1 RETURNING id, name, price").await;
        assert_eq!(rows, vec![vec!["1", "a", "3"]]);
        let n = client.execute("DELETE FROM items WHERE id IN (SELECT id FROM items WHERE price > 2.6)", &[]).await.unwrap();
        assert_eq!(n, 1, "only id 1 (price 3) matches");
        let rows = text_rows(&client, "SELECT id, name, price FROM items ORDER BY id").await;
        assert_eq!(rows, vec![vec!["2", "b", "2.5"]]);
        server.stop().await;
    });
}

#[test]
fn dml_with_subqueries_touches_only_matching_rows() {
    // DataFusion 54's own DELETE/UPDATE with IN/EXISTS/scalar subqueries hit every row
    // (apache/datafusion#24654); QuartzDB plans the row selection as a query instead.
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute(
                "CREATE TABLE a (id int, v int); CREATE TABLE b (id int);
                 INSERT INTO a VALUES (1, 10), (2, 20), (3, 30), (4, 40);
                 INSERT INTO b VALUES (2), (3);",
            )
            .await
            .unwrap();
        assert_eq!(client.execute("DELETE FROM a WHERE id IN (SELECT id FROM b)", &[]).await.unwrap(), 2);
        assert_eq!(text_rows(&client, "SELECT id FROM a ORDER BY id").await, vec![vec!["1"], vec!["4"]]);
        client.batch_execute("INSERT INTO a VALUES (2, 20), (3, 30)").await.unwrap();
        assert_eq!(client.execute("UPDATE a SET v = 0 WHERE EXISTS (SELECT 1 FROM b WHERE b.id = a.id)", &[]).await.unwrap(), 2);
        assert_eq!(
            text_rows(&client, "SELECT id, v FROM a ORDER BY id").await,
            vec![vec!["1", "10"], vec!["2", "0"], vec!["3", "0"], vec!["4", "40"]]
        );
        assert_eq!(client.execute("UPDATE a SET v = v + 1 WHERE v = (SELECT max(v) FROM a)", &[]).await.unwrap(), 1);
        assert_eq!(client.execute("DELETE FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.id = a.id) AND v > 100", &[]).await.unwrap(), 0);
        // UPDATE … FROM and DELETE … USING.
        assert_eq!(client.execute("UPDATE a SET v = b.id * 100 FROM b WHERE a.id = b.id", &[]).await.unwrap(), 2);
        assert_eq!(client.execute("DELETE FROM a USING b WHERE a.id = b.id AND a.v = 300", &[]).await.unwrap(), 1);
        assert_eq!(
            text_rows(&client, "SELECT id, v FROM a ORDER BY id").await,
            vec![vec!["1", "10"], vec!["2", "200"], vec!["4", "41"]]
        );
        server.stop().await;
    });
}

#[test]
fn defaults_serials_and_identity_columns() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute(
                "CREATE TABLE s (id serial PRIMARY KEY, big bigserial, tag text DEFAULT 'x', n int);
                 CREATE TABLE g (id int GENERATED ALWAYS AS IDENTITY, v text);",
            )
            .await
            .unwrap();
        client.batch_execute("INSERT INTO s (n) VALUES (1), (2); INSERT INTO s DEFAULT VALUES; INSERT INTO s (tag, n) VALUES (DEFAULT, 9)").await.unwrap();
        assert_eq!(
            text_rows(&client, "SELECT id, big, tag, n FROM s ORDER BY id").await,
            vec![vec!["1", "1", "x", "1"], vec!["2", "2", "x", "2"], vec!["3", "3", "x", "NULL"], vec!["4", "4", "x", "9"]]
        );
        client.batch_execute("INSERT INTO g (v) VALUES ('a')").await.unwrap();
        let err = client.batch_execute("INSERT INTO g (id, v) VALUES (5, 'b')").await.unwrap_err();
        assert_eq!(sqlstate(&err), "428C9");
        let err = client.batch_execute("UPDATE g SET id = 7").await.unwrap_err();
        assert_eq!(sqlstate(&err), "428C9");
        assert_eq!(text_rows(&client, "SELECT id, v FROM g").await, vec![vec!["1", "a"]]);
        server.stop().await;
    });
}

#[test]
fn ddl_changes_tables_schemas_and_views() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute(
                "CREATE SCHEMA app;
                 CREATE TABLE app.t (id int PRIMARY KEY, a text);
                 INSERT INTO app.t VALUES (1, 'one'), (2, 'two');
                 ALTER TABLE app.t ADD COLUMN b int;
                 ALTER TABLE app.t RENAME COLUMN a TO label;
                 ALTER TABLE app.t DROP COLUMN b;
                 ALTER TABLE app.t RENAME TO things;
                 CREATE VIEW app.v AS SELECT id, upper(label) AS up FROM app.things WHERE id > 1;",
            )
            .await
            .unwrap();
        assert_eq!(text_rows(&client, "SELECT * FROM app.v").await, vec![vec!["2", "TWO"]]);
        assert_eq!(sqlstate(&client.batch_execute("SELECT * FROM app.t").await.unwrap_err()), "42P01");
        assert_eq!(sqlstate(&client.batch_execute("DROP SCHEMA app").await.unwrap_err()), "2BP01");
        client.batch_execute("TRUNCATE app.things").await.unwrap();
        assert_eq!(text_rows(&client, "SELECT count(*) FROM app.things").await, vec![vec!["0"]]);
        client.batch_execute("DROP VIEW app.v; DROP TABLE app.things; DROP TABLE IF EXISTS app.things; DROP SCHEMA app").await.unwrap();
        assert_eq!(sqlstate(&client.batch_execute("DROP TABLE app.things").await.unwrap_err()), "3F000");
        server.stop().await;
    });
}

#[test]
fn a_failing_statement_changes_nothing() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute("CREATE TABLE u (id int PRIMARY KEY, v int); INSERT INTO u VALUES (1, 1), (2, 2)").await.unwrap();
        // The second row collides with the first: neither is inserted.
        let err = client.batch_execute("INSERT INTO u VALUES (3, 3), (3, 4)").await.unwrap_err();
        assert_eq!(sqlstate(&err), "23505");
        // Moving every key onto one value fails as a whole.
        let err = client.batch_execute("UPDATE u SET id = 5").await.unwrap_err();
        assert_eq!(sqlstate(&err), "23505");
        // Swapping keys within one statement is fine (checked at the end of the statement).
        client.batch_execute("UPDATE u SET id = 3 - id").await.unwrap();
        assert_eq!(text_rows(&client, "SELECT id, v FROM u ORDER BY id").await, vec![vec!["1", "2"], vec!["2", "1"]]);
        server.stop().await;
    });
}

#[test]
fn result_columns_are_named_as_postgresql_names_them() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute("CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a')").await.unwrap();
        // PostgreSQL allows a name more than once, also next to `*`; DataFusion does not, so
        // QuartzDB keeps them apart internally and clients see PostgreSQL's names.
        for (sql, names) in [
            ("SELECT id, id, 1 AS x, 2 AS x FROM t", vec!["id", "id", "x", "x"]),
            ("SELECT *, id::text, upper(name) FROM t", vec!["id", "name", "id", "upper"]),
            ("SELECT count(*), 1 + 1, 2 + 2 FROM t", vec!["count", "?column?", "?column?"]),
            // A field of a composite value is named after the field (JDBC reads `(…).n`).
            ("SELECT (information_schema._pg_expandarray(ARRAY[7])).n FROM t", vec!["n"]),
            // A scalar subquery is named after its column.
            ("SELECT (SELECT count(*) FROM t), (SELECT name AS r FROM t), (SELECT 1), (SELECT id::text FROM t) FROM t", vec!["count", "r", "?column?", "id"]),
        ] {
            let statement = client.prepare(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            let got: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
            assert_eq!(got, names, "{sql}");
            assert_eq!(client.query(&statement, &[]).await.unwrap().len(), 1, "{sql}");
        }
        server.stop().await;
    });
}

#[test]
fn result_columns_name_their_table_columns_and_print_as_postgresql() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute("CREATE TABLE rc (id serial PRIMARY KEY, c char(4), v varchar(3), n numeric); INSERT INTO rc (c, v, n) VALUES ('ab', 'xyz   ', 1.50)")
            .await
            .unwrap();
        let table: u32 = client.query_one("SELECT 'rc'::regclass::oid", &[]).await.unwrap().get(0);
        // RowDescription names each column's table and number (JDBC's getBaseTableName reads
        // them), also through a derived table's DISTINCT ON and a GROUP BY; computed ones are 0.
        for (sql, sources) in [
            ("SELECT id, c, n, n + 1 FROM rc", vec![Some(1), Some(2), Some(4), None]),
            ("SELECT * FROM (SELECT DISTINCT ON (id) id, v, c FROM rc ORDER BY id) s", vec![Some(1), Some(3), Some(2)]),
            ("SELECT c, count(*) FROM rc GROUP BY c", vec![Some(2), None]),
        ] {
            let statement = client.prepare(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            let got: Vec<Option<i16>> = statement.columns().iter().map(|c| c.table_oid().filter(|t| *t == table).and(c.column_id())).collect();
            assert_eq!(got, sources, "{sql}");
        }
        let types: Vec<String> = client.prepare("SELECT * FROM (SELECT DISTINCT ON (id) id, v, c FROM rc ORDER BY id) s").await.unwrap().columns().iter().map(|c| c.type_().name().to_string()).collect();
        assert_eq!(types, ["int4", "varchar", "bpchar"]);
        // char(n) blank-padded, varchar's excess spaces cut, numeric without the stored scale's
        // zeros: PostgreSQL's text (sqllogictest would not see the spaces).
        assert_eq!(text_rows(&client, "SELECT c, v, n, c || '|' FROM rc").await, vec![vec!["ab  ", "xyz", "1.5", "ab|"]]);
        // A computed column next to `*` in a derived table, as PostgreSQL allows it.
        assert_eq!(text_rows(&client, "SELECT * FROM (SELECT rc.*, rc.id::text FROM rc) s").await, vec![vec!["1", "ab  ", "xyz", "1.5", "1"]]);
        server.stop().await;
    });
}
