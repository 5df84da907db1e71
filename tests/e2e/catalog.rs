//! The catalogs clients read (pg_class, pg_attribute, pg_index, pg_constraint, …), the
//! functions and casts their queries use, and psql's backslash commands run by the real psql.


use crate::harness::{TestServer, psql, run, sqlstate};
use crate::sql::text_rows;

const SCHEMA: &str = "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(20) NOT NULL UNIQUE, price numeric(10,2) DEFAULT 1.5, emb vector(3));
    CREATE TABLE other.t (id serial PRIMARY KEY);
    CREATE INDEX items_emb_idx ON items USING hnsw (emb vector_cosine_ops);
    CREATE VIEW cheap AS SELECT id FROM items WHERE price < 2";

async fn server_with_schema() -> TestServer {
    let server = TestServer::start().await;
    let client = server.client().await;
    client.batch_execute("CREATE SCHEMA other").await.unwrap();
    client.batch_execute(SCHEMA).await.unwrap();
    server
}

#[test]
fn pg_class_and_pg_attribute_describe_tables() {
    run(async {
        let server = server_with_schema().await;
        let c = server.client().await;
        // In text, as psql reads it (relkind is PostgreSQL's one-byte "char").
        let rows = c
            .simple_query(
                "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname <> 'pg_catalog' ORDER BY 1, 2",
            )
            .await
            .unwrap();
        let got: Vec<(String, String, String)> = rows
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some((r.get(0).unwrap().into(), r.get(1).unwrap().into(), r.get(2).unwrap().into())),
                _ => None,
            })
            .collect();
        let want = [
            ("other", "t", "r"),
            ("other", "t_id_seq", "S"),
            ("other", "t_pkey", "i"),
            ("public", "cheap", "v"),
            ("public", "items", "r"),
            ("public", "items_emb_idx", "i"),
            ("public", "items_name_key", "i"),
            ("public", "items_pkey", "i"),
        ];
        assert_eq!(got, want.map(|(a, b, k)| (a.to_string(), b.to_string(), k.to_string())));

        // Column types with their modifiers, nullability and defaults, as psql's \d reads them.
        let rows = c
            .query(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                        (SELECT pg_get_expr(d.adbin, d.adrelid, true) FROM pg_attrdef d
                         WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef)
                 FROM pg_attribute a WHERE a.attrelid = 'items'::regclass AND a.attnum > 0 ORDER BY a.attnum",
                &[],
            )
            .await
            .unwrap();
        let got: Vec<(String, String, bool, Option<String>)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
        assert_eq!(
            got,
            vec![
                ("id".into(), "bigint".into(), true, None),
                ("name".into(), "character varying(20)".into(), true, None),
                ("price".into(), "numeric(10,2)".into(), false, Some("1.5".into())),
                ("emb".into(), "vector(3)".into(), false, None),
            ]
        );
        server.stop().await;
    });
}

#[test]
fn keys_and_indexes_appear_in_pg_index_and_pg_constraint() {
    run(async {
        let server = server_with_schema().await;
        let c = server.client().await;
        let rows = c
            .query(
                "SELECT c2.relname, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid, 0, true), pg_get_constraintdef(con.oid, true),
                        (SELECT am.amname FROM pg_am am WHERE am.oid = c2.relam)
                 FROM pg_class c, pg_class c2, pg_index i
                 LEFT JOIN pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
                 WHERE c.oid = 'public.items'::regclass AND c.oid = i.indrelid AND i.indexrelid = c2.oid
                 ORDER BY i.indisprimary DESC, c2.relname",
                &[],
            )
            .await
            .unwrap();
        let got: Vec<(String, bool, bool, String, Option<String>, String)> =
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))).collect();
        assert_eq!(
            got,
            vec![
                ("items_pkey".into(), true, true, "CREATE UNIQUE INDEX items_pkey ON public.items USING btree (id)".into(), Some("PRIMARY KEY (id)".into()), "btree".into()),
                (
                    "items_emb_idx".into(),
                    false,
                    false,
                    "CREATE INDEX items_emb_idx ON public.items USING hnsw (emb vector_cosine_ops)".into(),
                    None,
                    "hnsw".into()
                ),
                ("items_name_key".into(), false, true, "CREATE UNIQUE INDEX items_name_key ON public.items USING btree (name)".into(), Some("UNIQUE (name)".into()), "btree".into()),
            ]
        );
        // Key columns by number, as ORMs read them.
        let row = c.query_one("SELECT conkey FROM pg_constraint WHERE conname = 'items_name_key'", &[]).await.unwrap();
        assert_eq!(row.get::<_, Vec<i16>>(0), vec![2]);
        // indkey and indclass are int2vector and oidvector: `2` / `0` as text (SQLAlchemy splits
        // it), PostgreSQL's array format in binary; arrays in SQL.
        let sql = "SELECT i.indkey, i.indclass, pg_typeof(i.indkey)::text, i.indkey[1] FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'items_name_key'";
        let row = c.query_one(sql, &[]).await.unwrap();
        assert_eq!(row.columns()[0].type_().oid(), 22);
        assert_eq!(row.columns()[1].type_().oid(), 30);
        assert_eq!((row.get::<_, Vec<i16>>(0), row.get::<_, Vec<u32>>(1), row.get::<_, String>(2), row.get::<_, i16>(3)), (vec![2], vec![0], "int2vector".into(), 2));
        let text = c.simple_query(sql).await.unwrap();
        let tokio_postgres::SimpleQueryMessage::Row(row) = &text[1] else { panic!("{text:?}") };
        assert_eq!((row.get(0), row.get(1)), (Some("2"), Some("0")));
        // Cast, they are what they were cast to (the cast keeps the field's marker).
        let sql = "SELECT i.indkey::int4[], i.indkey::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'items_name_key'";
        let row = c.query_one(sql, &[]).await.unwrap();
        assert_eq!((row.columns()[0].type_().oid(), row.columns()[1].type_().oid()), (1007, 25));
        assert_eq!(row.get::<_, Vec<i32>>(0), vec![2]);
        // Constraint OIDs survive a restart unchanged.
        let before: u32 = c.query_one("SELECT oid FROM pg_constraint WHERE conname = 'items_pkey'", &[]).await.unwrap().get(0);
        let dir = server.stop().await.expect("temp dir");
        let server = TestServer::start_in(dir.path()).await;
        let c = server.client().await;
        let after: u32 = c.query_one("SELECT oid FROM pg_constraint WHERE conname = 'items_pkey'", &[]).await.unwrap().get(0);
        assert_eq!(before, after);
        server.stop().await;
    });
}

#[test]
fn object_name_casts_and_lookups() {
    run(async {
        let server = server_with_schema().await;
        let c = server.client().await;
        let row = c
            .query_one(
                "SELECT 'items'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 'items'),
                        (SELECT oid FROM pg_class WHERE relname = 't')::regclass::text,
                        'items'::regclass::text,
                        to_regclass('nope') IS NULL,
                        'pg_catalog.pg_class'::regclass::oid,
                        'other'::regnamespace::oid = (SELECT oid FROM pg_namespace WHERE nspname = 'other'),
                        pg_get_userbyid(10), pg_table_is_visible('other.t'::regclass), pg_table_is_visible('items'::regclass),
                        pg_encoding_to_char(6), current_schemas(true), has_table_privilege('items', 'SELECT'), quote_ident('Mixed Case')",
                &[],
            )
            .await
            .unwrap();
        assert!(row.get::<_, bool>(0));
        assert_eq!(row.get::<_, String>(1), "other.t");
        assert_eq!(row.get::<_, String>(2), "items");
        assert!(row.get::<_, bool>(3));
        assert_eq!(row.get::<_, u32>(4), 1259);
        assert!(row.get::<_, bool>(5));
        assert_eq!(row.get::<_, String>(6), "quartz");
        assert!(!row.get::<_, bool>(7));
        assert!(row.get::<_, bool>(8));
        assert_eq!(row.get::<_, String>(9), "UTF8");
        assert_eq!(row.get::<_, Vec<String>>(10), vec!["pg_catalog".to_string(), "public".to_string()]);
        assert!(row.get::<_, bool>(11));
        assert_eq!(row.get::<_, String>(12), "\"Mixed Case\"");

        let row = c.query_one("SELECT pg_get_serial_sequence('other.t', 'id'), pg_get_serial_sequence('items', 'id')", &[]).await.unwrap();
        assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("other.t_id_seq"));
        assert_eq!(row.get::<_, Option<String>>(1), None);

        let err = c.query("SELECT 'nope'::regclass", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42P01");
        let err = c.query("SELECT 'nope'::regnamespace", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "3F000");
        server.stop().await;
    });
}

#[test]
fn every_catalog_table_answers() {
    run(async {
        let server = server_with_schema().await;
        let c = server.client().await;
        let names: Vec<String> = c
            .query("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'pg_catalog'::regnamespace ORDER BY 1", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(names.len() > 30, "{names:?}");
        for name in &names {
            c.query(&format!("SELECT * FROM pg_catalog.{name} LIMIT 1"), &[]).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let roles: Vec<String> = c.query("SELECT rolname FROM pg_roles WHERE rolsuper", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(roles, vec!["quartz".to_string()]);
        let dbs: Vec<String> = c.query("SELECT datname FROM pg_database ORDER BY 1", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(dbs, vec!["postgres".to_string(), "quartz".to_string()]);
        server.stop().await;
    });
}

#[test]
fn correlated_scalar_subqueries_return_one_row_or_fail() {
    run(async {
        let server = TestServer::start().await;
        let c = server.client().await;
        c.batch_execute("CREATE TABLE a (k int, v text); CREATE TABLE b (k int, w text);
                         INSERT INTO a VALUES (1, 'x'), (2, 'y'), (3, 'z'); INSERT INTO b VALUES (1, 'one'), (2, 'two'), (2, 'deux')")
            .await
            .unwrap();
        let rows = c
            .query("SELECT a.k, (SELECT b.w FROM b WHERE b.k = a.k AND a.v = 'x') FROM a WHERE a.k <> 2 ORDER BY a.k", &[])
            .await
            .unwrap();
        let got: Vec<(i32, Option<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, vec![(1, Some("one".into())), (3, None)]);
        let err = c.query("SELECT a.k, (SELECT b.w FROM b WHERE b.k = a.k) FROM a", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "21000");
        // Outer columns in the subquery's SELECT list (SQLAlchemy's column reflection): computed
        // outside from the subquery's row, NULL when there is none.
        let rows = c.query("SELECT a.k, (SELECT a.v || '-' || b.w FROM b WHERE b.k = a.k AND b.w <> 'deux') FROM a ORDER BY a.k", &[]).await.unwrap();
        let got: Vec<(i32, Option<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, vec![(1, Some("x-one".into())), (2, Some("y-two".into())), (3, None)]);
        let rows = c.query("SELECT a.k, (SELECT a.k + 10 FROM b WHERE b.k = a.k AND b.w <> 'deux') FROM a ORDER BY a.k", &[]).await.unwrap();
        let got: Vec<(i32, Option<i64>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, vec![(1, Some(11)), (2, Some(12)), (3, None)]);
        let err = c.query("SELECT a.k, (SELECT a.v || b.w FROM b WHERE b.k = a.k) FROM a", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "21000");
        let rows = c.query("SELECT a.k, ARRAY(SELECT b.w FROM b WHERE b.k = a.k ORDER BY 1) FROM a WHERE a.k = 2", &[]).await.unwrap();
        assert_eq!(rows[0].get::<_, Vec<String>>(1), vec!["deux".to_string(), "two".to_string()]);
        server.stop().await;
    });
}


#[test]
fn psql_backslash_commands_list_objects() {
    run(async {
        let server = server_with_schema().await;
        let cases: &[(&str, &[&str])] = &[
            ("\\dt", &["public | items | table | quartz"]),
            ("\\dt other.*", &["other  | t    | table | quartz"]),
            ("\\di", &["items_emb_idx  | index | quartz | items", "items_name_key | index | quartz | items", "items_pkey     | index | quartz | items"]),
            ("\\dv", &["public | cheap | view | quartz"]),
            ("\\ds other.*", &["other  | t_id_seq | sequence | quartz"]),
            ("\\d", &["public | cheap | view  | quartz", "public | items | table | quartz"]),
            ("\\l", &["quartz   | quartz | UTF8", "postgres | quartz | UTF8"]),
            ("\\dn", &["other  | quartz", "public | quartz"]),
            ("\\du", &["quartz    | Superuser"]),
            ("\\dx", &["vector  | 0.8.7"]),
            ("\\dT", &["public | vector"]),
            ("\\df", &["(0 rows)"]),
            (
                "\\d items",
                &[
                    "Table \"public.items\"",
                    " name   | character varying(20) |           | not null | ",
                    " price  | numeric(10,2)         |           |          | 1.5",
                    "\"items_pkey\" PRIMARY KEY, btree (id)",
                    "\"items_emb_idx\" hnsw (emb vector_cosine_ops)",
                    "\"items_name_key\" UNIQUE CONSTRAINT, btree (name)",
                ],
            ),
            ("\\d other.t", &[" id     | integer |           | not null | nextval('other.t_id_seq')", "\"t_pkey\" PRIMARY KEY, btree (id)"]),
            ("\\d items_pkey", &["Index \"public.items_pkey\"", " id     | bigint | yes  | id", "primary key, btree, for table \"public.items\""]),
            ("\\dt+ items", &["public | items | table | quartz | permanent   | lance         |"]),
            ("\\l+ quartz", &["quartz | quartz | UTF8     | C       | C     |", "| pg_default |"]),
            ("\\dn+", &["other  | quartz |"]),
            ("\\d+ items", &["Table \"public.items\"", "| Storage |", "\"items_pkey\" PRIMARY KEY, btree (id)", "Access method: lance"]),
            ("\\d cheap", &["View \"public.cheap\"", " id     | bigint |"]),
            ("\\d other.t_id_seq", &["Sequence \"other.t_id_seq\"", " integer |     1 |       1 | 2147483647 |         1 | no      |     1"]),
        ];
        for (command, lines) in cases {
            let server = &server;
            let command = command.to_string();
            let Some(out) = tokio::task::block_in_place(|| psql(server, &command)) else { break };
            for line in *lines {
                assert!(out.contains(line), "psql {command}: expected {line:?} in\n{out}");
            }
        }
        server.stop().await;
    });
}

#[test]
fn settings_and_activity_show_the_session() {
    run(async {
        let server = TestServer::start().await;
        let c = server.client().await;
        let text = |rows: Vec<tokio_postgres::SimpleQueryMessage>| -> Vec<Vec<Option<String>>> {
            rows.into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect()),
                    _ => None,
                })
                .collect()
        };
        let got = text(c.simple_query("SELECT current_setting('server_version_num'), current_setting('TimeZone'), current_setting('nope', true)").await.unwrap());
        assert_eq!(got, [[Some("150000".to_string()), Some("UTC".to_string()), None]]);
        let err = c.simple_query("SELECT current_setting('nope')").await.unwrap_err();
        assert_eq!(sqlstate(&err), "42704");
        c.batch_execute("SET application_name = 'reporting'").await.unwrap();
        let got = text(c.simple_query("SELECT setting, source, context FROM pg_settings WHERE name = 'application_name'").await.unwrap());
        assert_eq!(got, [[Some("reporting".to_string()), Some("session".to_string()), Some("user".to_string())]]);
        let got = text(c.simple_query("SELECT datname, usename, application_name, state, query LIKE '%pg_stat_activity%' FROM pg_stat_activity WHERE pid = pg_backend_pid()").await.unwrap());
        assert_eq!(got, [[Some("quartz".to_string()), Some("quartz".to_string()), Some("reporting".to_string()), Some("active".to_string()), Some("t".to_string())]]);
        server.stop().await;
    });
}

#[test]
fn other_sessions_show_in_pg_stat_activity_and_pg_cancel_backend_stops_their_statement() {
    run(async {
        let server = TestServer::start().await;
        let busy = server.client().await;
        let watcher = server.client().await;
        busy.batch_execute("SET application_name = 'batch job'").await.unwrap();
        let pid: i32 = busy.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        let me: i32 = watcher.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        let state_of = |pid: i32| {
            let watcher = &watcher;
            async move {
                let rows = watcher.query("SELECT state, application_name, query FROM pg_stat_activity WHERE pid = $1", &[&pid]).await.unwrap();
                rows.first().map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(2)))
            }
        };
        // Both sessions are listed; the other one is idle once its last statement is done.
        let pids: Vec<i32> = watcher.query("SELECT pid FROM pg_stat_activity ORDER BY pid", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert!(pids.contains(&pid) && pids.contains(&me), "{pids:?}");
        let mut idle = false;
        for _ in 0..100 {
            if let Some((state, app, query)) = state_of(pid).await {
                assert_eq!(app.as_deref(), Some("batch job"));
                if state == "idle" {
                    assert!(query.is_some_and(|q| q.contains("pg_backend_pid")));
                    idle = true;
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(idle, "the other session never showed as idle");
        // A long statement shows as active, and pg_cancel_backend ends it with 57014.
        let running = tokio::spawn(async move {
            let result = busy.simple_query("SELECT count(*) FROM generate_series(1, 100000000000)").await;
            (busy, result)
        });
        let mut active = false;
        for _ in 0..200 {
            if let Some((state, _, query)) = state_of(pid).await
                && state == "active"
                && query.is_some_and(|q| q.contains("generate_series"))
            {
                active = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(active, "the running statement never showed as active");
        let cancelled: bool = watcher.query_one(&format!("SELECT pg_cancel_backend({pid})"), &[]).await.unwrap().get(0);
        assert!(cancelled);
        let (busy, result) = tokio::time::timeout(std::time::Duration::from_secs(60), running).await.expect("cancelled in time").unwrap();
        assert_eq!(sqlstate(&result.unwrap_err()), "57014");
        // The session goes on; an unknown pid cancels nothing.
        assert_eq!(busy.query_one("SELECT 1::int", &[]).await.unwrap().get::<_, i32>(0), 1);
        let none: bool = watcher.query_one("SELECT pg_cancel_backend(999999)", &[]).await.unwrap().get(0);
        assert!(!none);
        // An open block between statements, and one a failed statement aborted.
        let wait_for = |want: &'static str| {
            let state_of = &state_of;
            async move {
                for _ in 0..100 {
                    if state_of(pid).await.is_some_and(|(state, _, _)| state == want) {
                        return true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                false
            }
        };
        busy.batch_execute("BEGIN; SELECT 1").await.unwrap();
        assert!(wait_for("idle in transaction").await, "the open block never showed");
        assert!(busy.batch_execute("SELECT 1/0").await.is_err());
        assert!(wait_for("idle in transaction (aborted)").await, "the failed block never showed");
        busy.batch_execute("ROLLBACK").await.unwrap();
        assert!(wait_for("idle").await);
        server.stop().await;
    });
}

#[test]
fn pg_terminate_backend_closes_that_session_and_rolls_back_its_block() {
    run(async {
        let server = TestServer::start().await;
        let victim = server.client().await;
        let admin = server.client().await;
        admin.batch_execute("CREATE TABLE tb (id int)").await.unwrap();
        let pid: i32 = victim.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        victim.batch_execute("BEGIN; INSERT INTO tb VALUES (1)").await.unwrap();
        let terminated: bool = admin.query_one(&format!("SELECT pg_terminate_backend({pid})"), &[]).await.unwrap().get(0);
        assert!(terminated);
        // The connection is gone (told so with FATAL 57P01, which psycopg reports as
        // AdminShutdown): its next statement fails, and its block was rolled back.
        assert!(tokio::time::timeout(std::time::Duration::from_secs(30), victim.simple_query("SELECT 1")).await.expect("answered in time").is_err());
        let mut gone = false;
        for _ in 0..100 {
            let listed = admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid]).await.unwrap();
            if listed.is_empty() {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(gone, "the terminated session is still listed");
        assert_eq!(text_rows(&admin, "SELECT count(*) FROM tb").await, vec![vec!["0"]]);
        let none: bool = admin.query_one("SELECT pg_terminate_backend(999999)", &[]).await.unwrap().get(0);
        assert!(!none);
        server.stop().await;
    });
}

#[test]
fn comment_on_shows_in_pg_description_psql_and_survives_a_restart() {
    run(async {
        let server = server_with_schema().await;
        let c = server.client().await;
        c.batch_execute(
            "COMMENT ON TABLE items IS 'things for sale';
             COMMENT ON COLUMN items.price IS 'in euros';
             COMMENT ON COLUMN cheap.id IS 'view column';
             COMMENT ON VIEW cheap IS 'under 2';
             COMMENT ON INDEX items_emb_idx IS 'by meaning';
             COMMENT ON INDEX items_pkey IS 'the key';
             COMMENT ON SEQUENCE other.t_id_seq IS 'ids';
             COMMENT ON SCHEMA other IS 'elsewhere';
             COMMENT ON DATABASE quartz IS 'main';
             COMMENT ON ROLE quartz IS 'owner'",
        )
        .await
        .unwrap();
        // Wrong kinds and missing objects fail as in PostgreSQL 15.
        let cases = [
            ("COMMENT ON TABLE cheap IS 'x'", "42809"),
            ("COMMENT ON VIEW items IS 'x'", "42809"),
            ("COMMENT ON INDEX items IS 'x'", "42809"),
            ("COMMENT ON SEQUENCE items IS 'x'", "42809"),
            ("COMMENT ON TABLE nosuch IS 'x'", "42P01"),
            ("COMMENT ON COLUMN items.nosuch IS 'x'", "42703"),
            ("COMMENT ON COLUMN cheap.nosuch IS 'x'", "42703"),
            ("COMMENT ON SCHEMA nosuch IS 'x'", "3F000"),
            ("COMMENT ON ROLE nosuch IS 'x'", "42704"),
        ];
        for (sql, code) in cases {
            let err = c.batch_execute(sql).await.expect_err(sql);
            assert_eq!(sqlstate(&err), code, "{sql}: {err}");
        }
        // A comment set in a rolled-back block is gone; NULL and '' remove one.
        c.batch_execute("BEGIN; COMMENT ON COLUMN items.name IS 'rolled back'; ROLLBACK").await.unwrap();
        c.batch_execute("COMMENT ON COLUMN items.id IS 'gone'; COMMENT ON COLUMN items.id IS NULL").await.unwrap();
        c.batch_execute("COMMENT ON COLUMN items.emb IS 'gone'; COMMENT ON COLUMN items.emb IS ''").await.unwrap();
        let check = |c: tokio_postgres::Client| async move {
            let rows = c
                .query(
                    "SELECT d.objoid::regclass::text, d.classoid::regclass::text, d.objsubid, d.description FROM pg_description d
                     WHERE d.classoid = 'pg_class'::regclass ORDER BY 1, 3",
                    &[],
                )
                .await
                .unwrap();
            let got: Vec<(String, String, i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
            let want = [
                ("cheap", 0, "under 2"),
                ("cheap", 1, "view column"),
                ("items", 0, "things for sale"),
                ("items", 3, "in euros"),
                ("items_emb_idx", 0, "by meaning"),
                ("items_pkey", 0, "the key"),
                ("other.t_id_seq", 0, "ids"),
            ];
            let want: Vec<(String, String, i32, String)> = want.iter().map(|(o, n, d)| (o.to_string(), "pg_class".to_string(), *n, d.to_string())).collect();
            assert_eq!(got, want);
            let row = c
                .query_one(
                    "SELECT obj_description('items'::regclass, 'pg_class'), col_description('items'::regclass, 3), col_description('items'::regclass, 1),
                            obj_description('items'::regclass, 'pg_namespace'), obj_description(n.oid, 'pg_namespace'),
                            shobj_description(d.oid, 'pg_database'), shobj_description(r.oid, 'pg_authid')
                     FROM pg_namespace n, pg_database d, pg_roles r WHERE n.nspname = 'other' AND d.datname = 'quartz' AND r.rolname = 'quartz'",
                    &[],
                )
                .await
                .unwrap();
            let got: Vec<Option<String>> = (0..7).map(|i| row.get(i)).collect();
            let want = [Some("things for sale"), Some("in euros"), None, None, Some("elsewhere"), Some("main"), Some("owner")];
            assert_eq!(got, want.map(|s| s.map(str::to_string)).to_vec());
        };
        check(c).await;
        let Some(out) = tokio::task::block_in_place(|| psql(&server, "\\dt+ items")) else { return };
        assert!(out.contains("| things for sale"), "{out}");
        let out = tokio::task::block_in_place(|| psql(&server, "\\d+ items")).unwrap();
        assert!(out.lines().any(|l| l.starts_with(" price ") && l.ends_with("| in euros")), "{out}");
        let out = tokio::task::block_in_place(|| psql(&server, "\\dn+ other")).unwrap();
        assert!(out.contains("| elsewhere"), "{out}");
        let out = tokio::task::block_in_place(|| psql(&server, "\\dx")).unwrap();
        assert!(out.contains("| vector data type and ivfflat and hnsw access methods"), "{out}");
        // Comments are part of the durable catalog.
        let dir = server.stop().await.unwrap();
        let server = TestServer::start_in(dir.path()).await;
        check(server.client().await).await;
        server.stop().await;
    });
}

#[test]
fn information_schema_describes_tables_in_postgresql_types() {
    run(async {
        let server = server_with_schema().await;
        let c = server.client().await;
        // Expected rows as PostgreSQL 15 + pgvector fills them for the same schema.
        let rows = text_rows(
            &c,
            "SELECT column_name, ordinal_position, is_nullable, data_type, character_maximum_length, numeric_precision, numeric_scale, udt_schema, udt_name
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items' ORDER BY ordinal_position",
        )
        .await;
        assert_eq!(
            rows,
            vec![
                vec!["id", "1", "NO", "bigint", "NULL", "64", "0", "pg_catalog", "int8"],
                vec!["name", "2", "NO", "character varying", "20", "NULL", "NULL", "pg_catalog", "varchar"],
                vec!["price", "3", "YES", "numeric", "NULL", "10", "2", "pg_catalog", "numeric"],
                vec!["emb", "4", "YES", "USER-DEFINED", "NULL", "NULL", "NULL", "public", "vector"],
            ]
        );
        assert_eq!(text_rows(&c, "SELECT column_default FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'price'").await, vec![vec!["1.5"]]);
        assert_eq!(
            text_rows(&c, "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ('public', 'other') ORDER BY 1, 2").await,
            vec![vec!["other", "t", "BASE TABLE"], vec!["public", "cheap", "VIEW"], vec!["public", "items", "BASE TABLE"]]
        );
        // A view's columns are its query's.
        assert_eq!(
            text_rows(&c, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'cheap'").await,
            vec![vec!["id", "bigint"]]
        );
        assert_eq!(
            text_rows(
                &c,
                "SELECT tc.constraint_name, tc.constraint_type, k.column_name, k.ordinal_position FROM information_schema.table_constraints tc
                 JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name
                 WHERE tc.table_name = 'items' ORDER BY 1",
            )
            .await,
            vec![vec!["items_name_key", "UNIQUE", "name", "1"], vec!["items_pkey", "PRIMARY KEY", "id", "1"]]
        );
        assert_eq!(
            text_rows(&c, "SELECT schema_name FROM information_schema.schemata ORDER BY 1").await,
            vec![vec!["information_schema"], vec!["other"], vec!["pg_catalog"], vec!["public"]]
        );
        assert_eq!(text_rows(&c, "SELECT count(*) FROM information_schema.referential_constraints").await, vec![vec!["0"]]);
        server.stop().await;
    });
}
