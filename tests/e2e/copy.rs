//! COPY FROM STDIN: text and CSV data from tokio-postgres (extended protocol) and psql's
//! `\copy` (simple protocol), every column type through PostgreSQL's text forms, and bad data
//! rejected whole with its SQLSTATE. COPY TO STDOUT: the same forms back out, and round trips.

use bytes::Bytes;
use futures::{SinkExt, TryStreamExt};
use tokio_postgres::Client;

use crate::harness::{TestServer, psql, run, sqlstate};
use crate::sql::text_rows;

/// Sends `chunks` as one COPY's data; returns the row count or the error.
async fn copy_in(client: &Client, sql: &str, chunks: &[&str]) -> Result<u64, tokio_postgres::Error> {
    let sink = client.copy_in(sql).await?;
    futures::pin_mut!(sink);
    for c in chunks {
        sink.send(Bytes::from(c.to_string())).await?;
    }
    sink.finish().await
}

const TABLE: &str = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL DEFAULT 'none', price numeric(10,2),
                     at timestamptz, tags text[], v vector(2), d interval, ok boolean)";

#[test]
fn copy_from_stdin_loads_text_and_csv() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute(TABLE).await.unwrap();
        // Text format, split mid-line across messages: escapes, \N, and `\.` ending the data.
        let n = copy_in(
            &client,
            "COPY items FROM STDIN",
            &["1\ttab\\there\t1.50\t2024-01-01 10:00:00+00\t{a,b}\t[1,2]\t1 day\tt\n2\tline\\nbreak\t\\N\t\\N", "\t\\N\t[3,4]\t-01:30:00\tf\n\\.\n"],
        )
        .await
        .unwrap();
        assert_eq!(n, 2);
        // CSV with a header, quotes (a quoted comma, newline and doubled quote) and a column
        // list: omitted columns take their defaults; an unquoted empty field is NULL.
        let n = copy_in(&client, "COPY items (id, price, v) FROM STDIN WITH (FORMAT csv, HEADER)", &["id,price,v\n3,2.5,\"[5,6]\"\n4,,\n"]).await.unwrap();
        assert_eq!(n, 2);
        let n = copy_in(&client, "COPY items (id, name) FROM STDIN (FORMAT csv, DELIMITER ';')", &["5;\"say \"\"hi\"\", then\nleave\"\n"]).await.unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            text_rows(&client, "SELECT id, name, price, at, tags, v, d, ok FROM items ORDER BY id").await,
            vec![
                vec!["1", "tab\there", "1.50", "2024-01-01 10:00:00+00", "{a,b}", "[1,2]", "1 day", "t"],
                vec!["2", "line\nbreak", "NULL", "NULL", "NULL", "[3,4]", "-01:30:00", "f"],
                vec!["3", "none", "2.50", "NULL", "NULL", "[5,6]", "NULL", "NULL"],
                vec!["4", "none", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
                vec!["5", "say \"hi\", then\nleave", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
            ]
        );
        // FORCE_NOT_NULL: an empty field of `name` is '' (not NULL, which NOT NULL would refuse);
        // FORCE_NULL: a quoted "NA" of `tags` is NULL as an unquoted one is.
        let sql = "COPY items (id, name, tags) FROM STDIN WITH (FORMAT csv, NULL 'NA', FORCE_NOT_NULL (name), FORCE_NULL (tags))";
        let n = copy_in(&client, sql, &["6,NA,\"NA\"\n7,,NA\n"]).await.unwrap();
        assert_eq!(n, 2);
        assert_eq!(text_rows(&client, "SELECT id, name, tags IS NULL FROM items WHERE id > 5 ORDER BY id").await, vec![vec!["6", "NA", "t"], vec!["7", "", "t"]]);
        server.stop().await;
    });
}

#[test]
fn bad_copy_data_changes_nothing() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute(TABLE).await.unwrap();
        copy_in(&client, "COPY items (id, name) FROM STDIN", &["1\ta\n"]).await.unwrap();
        // Each error's CONTEXT as PostgreSQL 15 words it (which also shows the whole line of a
        // NOT NULL violation, and the line of a duplicate key).
        for (sql, data, code, context) in [
            ("COPY items (id, name) FROM STDIN", "2\tb\n3\n", "22P04", "COPY items, line 2: \"3\""),
            ("COPY items (id, name) FROM STDIN", "2\tb\tc\n", "22P04", "COPY items, line 1: \"2\tb\tc\""),
            ("COPY items (id, name) FROM STDIN WITH (FORMAT csv)", "2,\"open\n", "22P04", "COPY items, line 1: \"2,\"open\n\""),
            ("COPY items (id, price) FROM STDIN", "2\t1.5\n3\tabc\n", "22P02", "COPY items, line 2, column price: \"abc\""),
            ("COPY items (id, at) FROM STDIN", "2\tsoon\n", "22007", "COPY items, line 1, column at: \"soon\""),
            ("COPY items (id, v) FROM STDIN", "2\t[1,2,3]\n", "22000", "COPY items, line 1, column v: \"[1,2,3]\""),
            ("COPY items (id, name) FROM STDIN", "2\tb\n1\tdup\n", "23505", ""),
            ("COPY items (id, name) FROM STDIN", "2\t\\N\n", "23502", "COPY items, line 1"),
        ] {
            let err = copy_in(&client, sql, &[data]).await.expect_err(data);
            assert_eq!(sqlstate(&err), code, "{sql} {data:?}: {err}");
            assert_eq!(err.as_db_error().and_then(|e| e.where_()).unwrap_or(""), context, "{sql} {data:?}");
        }
        // The session goes on, and no row of a failed COPY was written.
        assert_eq!(text_rows(&client, "SELECT id, name FROM items ORDER BY id").await, vec![vec!["1", "a"]]);
        for (sql, code) in [
            ("COPY items FROM '/etc/passwd'", "42501"),
            ("COPY items FROM STDIN WITH (FORMAT binary, DELIMITER ',')", "42601"),
            ("COPY items FROM STDIN WITH (FORMAT text, FORCE_NULL (name))", "0A000"),
            ("COPY items FROM STDIN WITH (FORMAT csv, FORCE_NULL (nope))", "42703"),
            ("COPY items (id) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (name))", "42P10"),
            ("COPY items TO STDOUT WITH (FORMAT csv, FORCE_NOT_NULL (name))", "0A000"),
            ("COPY nope FROM STDIN", "42P01"),
            ("COPY items (nope) FROM STDIN", "42703"),
        ] {
            let err = client.batch_execute(sql).await.expect_err(sql);
            assert_eq!(sqlstate(&err), code, "{sql}: {err}");
        }
        server.stop().await;
    });
}

/// `rows` lines of `id<TAB>name` from 1, with `bad` in place of line `at`'s id.
fn numbered(rows: usize, at: usize, bad: &str) -> String {
    (1..=rows).map(|i| if i == at { format!("{bad}\titem {i}\n") } else { format!("{i}\titem {i}\n") }).collect()
}

/// A COPY larger than `quartz.copy_batch_size` is inserted a batch at a time but is still one
/// statement: a bad value or key in a late batch leaves the table unchanged and names its line,
/// CopyFail rolls back what was inserted, and in a block nothing is seen outside before COMMIT.
#[test]
fn copy_in_batches_is_all_or_nothing() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let other = server.client().await;
        client.batch_execute("CREATE TABLE items (id int PRIMARY KEY, name varchar(12) NOT NULL); SET quartz.copy_batch_size = '64kB'").await.unwrap();
        other.batch_execute("SET lock_timeout = '10s'").await.unwrap();
        assert_eq!(text_rows(&client, "SHOW quartz.copy_batch_size").await, vec![vec!["64kB"]]);
        copy_in(&client, "COPY items FROM STDIN", &["0\tfirst\n"]).await.unwrap();
        let unchanged = || async { text_rows(&other, "SELECT count(*), sum(id) FROM items").await };
        let sql = "COPY items FROM STDIN";
        // About 20 bytes a row: 20,000 rows are several 64 kB batches.
        for (data, code, context) in [
            (numbered(20_000, 15_000, "x"), "22P02", "COPY items, line 15000, column id: \"x\""),
            (numbered(20_000, 19_999, "99999999999"), "22003", "COPY items, line 19999, column id: \"99999999999\""),
            (numbered(20_000, 17_000, "5"), "23505", ""),
            (numbered(20_000, 20_000, "0"), "23505", ""),
        ] {
            let err = copy_in(&client, sql, &[&data]).await.expect_err(code);
            assert_eq!(sqlstate(&err), code, "{err}");
            let db = err.as_db_error().expect("a server error");
            assert_eq!(db.where_().unwrap_or(""), context, "{err}");
            assert_eq!(unchanged().await, vec![vec!["1", "0"]]);
        }
        let mut long = numbered(20_000, 0, "");
        long.push_str("20001\ta name too long\n");
        let err = copy_in(&client, sql, &[&long]).await.unwrap_err();
        assert_eq!((sqlstate(&err).as_str(), err.as_db_error().unwrap().where_()), ("22001", Some("COPY items, line 20001, column name: \"a name too long\"")));
        // Sent in many messages, lines split across them.
        let data = numbered(20_000, 0, "");
        let pieces: Vec<&str> = data.as_bytes().chunks(7_000).map(|c| std::str::from_utf8(c).unwrap()).collect();
        assert_eq!(copy_in(&client, sql, &pieces).await.unwrap(), 20_000);
        assert_eq!(unchanged().await, vec![vec!["20001", "200010000"]]);

        // CopyFail (the sink dropped unfinished) after batches were inserted: rolled back, and
        // the write lock is free for the other session.
        {
            let sink = client.copy_in("COPY items FROM STDIN").await.unwrap();
            futures::pin_mut!(sink);
            for piece in numbered(40_000, 0, "").split_off(data.len()).as_bytes().chunks(50_000) {
                sink.send(Bytes::copy_from_slice(piece)).await.unwrap();
            }
            sink.flush().await.unwrap();
        }
        assert!(client.simple_query("SELECT 1").await.is_ok());
        other.batch_execute("INSERT INTO items VALUES (-1, 'other')").await.unwrap();
        assert_eq!(unchanged().await, vec![vec!["20002", "200009999"]]);

        // In a block: the batches are the block's, unseen outside until COMMIT.
        client.batch_execute("BEGIN").await.unwrap();
        let more = numbered(40_000, 0, "").split_off(data.len());
        assert_eq!(copy_in(&client, sql, &[&more]).await.unwrap(), 20_000);
        assert_eq!(text_rows(&client, "SELECT count(*) FROM items").await, vec![vec!["40002"]]);
        assert_eq!(unchanged().await, vec![vec!["20002", "200009999"]]);
        client.batch_execute("COMMIT").await.unwrap();
        assert_eq!(unchanged().await, vec![vec!["40002", "800019999"]]);
        // A failed COPY fails the block, as in PostgreSQL.
        client.batch_execute("BEGIN").await.unwrap();
        copy_in(&client, sql, &[&numbered(20_000, 10, "1")]).await.unwrap_err();
        assert_eq!(sqlstate(&client.batch_execute("SELECT 1").await.unwrap_err()), "25P02");
        client.batch_execute("ROLLBACK").await.unwrap();
        assert_eq!(unchanged().await, vec![vec!["40002", "800019999"]]);
        server.stop().await;
    });
}

#[test]
fn psql_copy_loads_a_csv_file() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute(TABLE).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("items.csv");
        let mut csv = String::from("id,name,price\n");
        for i in 0..2500 {
            csv.push_str(&format!("{i},\"item {i}\",{}.25\n", i % 100));
        }
        std::fs::write(&file, csv).unwrap();
        let command = format!("\\copy items (id, name, price) from '{}' with (format csv, header)", file.display());
        let Some(out) = tokio::task::block_in_place(|| psql(&server, &command)) else { return };
        assert_eq!(out.trim(), "COPY 2500");
        assert_eq!(text_rows(&client, "SELECT count(*), sum(price), max(name) FROM items").await, vec![vec!["2500", "124375.00", "item 999"]]);
        server.stop().await;
    });
}

/// Everything a COPY TO STDOUT sends, as text.
async fn copy_out(client: &Client, sql: &str) -> Result<String, tokio_postgres::Error> {
    let stream = client.copy_out(sql).await?;
    let chunks: Vec<Bytes> = stream.try_collect().await?;
    Ok(String::from_utf8(chunks.concat()).unwrap())
}

#[test]
fn copy_to_stdout_prints_every_type_and_reads_back() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute(TABLE).await.unwrap();
        client
            .batch_execute(
                "SET TimeZone = 'UTC';
                 INSERT INTO items VALUES
                   (1, E'tab\\there', 1.5, '2024-01-01 10:00:00+00', '{a,\"b c\"}', '[1,2]', '1 day 02:00:00', true),
                   (2, E'line\\nbreak, \"quoted\"', NULL, NULL, NULL, '[3.5,-4]', '-01:30:00', false)",
            )
            .await
            .unwrap();
        // Text format, as PostgreSQL 15 prints these values (checked there with the same rows).
        let text = copy_out(&client, "COPY items TO STDOUT").await.unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "1\ttab\\there\t1.50\t2024-01-01 10:00:00+00\t{a,\"b c\"}\t[1,2]\t1 day 02:00:00\tt",
                "2\tline\\nbreak, \"quoted\"\t\\N\t\\N\t\\N\t[3.5,-4]\t-01:30:00\tf",
            ]
        );
        // CSV of a query, with a header and FORCE_QUOTE.
        let csv = copy_out(&client, "COPY (SELECT id, name, price FROM items ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE (price))").await.unwrap();
        assert_eq!(csv, "id,name,price\n1,tab\there,\"1.50\"\n2,\"line\nbreak, \"\"quoted\"\"\",\n");

        // What COPY TO writes, COPY FROM reads back unchanged, in both formats.
        for (out, into) in [("COPY items TO STDOUT", "COPY copy2 FROM STDIN"), ("COPY items TO STDOUT (FORMAT csv)", "COPY copy2 FROM STDIN (FORMAT csv)")] {
            client.batch_execute("DROP TABLE IF EXISTS copy2").await.unwrap();
            client.batch_execute(&TABLE.replace("items", "copy2")).await.unwrap();
            let data = copy_out(&client, out).await.unwrap();
            assert_eq!(copy_in(&client, into, &[&data]).await.unwrap(), 2);
            let q = |t: &str| format!("SELECT id, name, price::text, at::text, tags::text, v::text, d::text, ok FROM {t} ORDER BY id");
            assert_eq!(text_rows(&client, &q("copy2")).await, text_rows(&client, &q("items")).await, "{out}");
        }

        // A column list, an empty result, and the errors PostgreSQL gives.
        assert_eq!(copy_out(&client, "COPY items (v, id) TO STDOUT WITH (DELIMITER '|')").await.unwrap().lines().count(), 2);
        assert_eq!(copy_out(&client, "COPY (SELECT 1 WHERE false) TO STDOUT").await.unwrap(), "");
        for (sql, code) in [
            ("COPY nothing TO STDOUT", "42P01"),
            ("COPY items (nope) TO STDOUT", "42703"),
            ("COPY items TO STDOUT WITH (FORCE_QUOTE (id))", "0A000"),
            ("COPY items TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (nope))", "42P10"),
            ("COPY items TO STDOUT WITH (FORMAT binary, HEADER)", "0A000"),
            ("COPY items TO '/tmp/x'", "42501"),
        ] {
            let err = copy_out(&client, sql).await.unwrap_err();
            assert_eq!(sqlstate(&err), code, "{sql}");
        }
        server.stop().await;
    });
}

#[test]
fn psql_copy_writes_a_file_that_loads_back() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute("CREATE TABLE src (id int, note text, v vector(3)); CREATE TABLE dst (id int, note text, v vector(3))").await.unwrap();
        client.batch_execute("INSERT INTO src SELECT i, 'note ' || i, '[1,2,3]' FROM generate_series(1, 3000) i").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("src.csv");
        let out = |command: String| tokio::task::block_in_place(|| psql(&server, &command));
        let Some(written) = out(format!("\\copy src to '{}' with (format csv, header)", file.display())) else { return };
        assert_eq!(written.trim(), "COPY 3000");
        let csv = std::fs::read_to_string(&file).unwrap();
        assert!(csv.starts_with("id,note,v\n"), "{}", &csv[..40]);
        let read = out(format!("\\copy dst from '{}' with (format csv, header)", file.display())).unwrap();
        assert_eq!(read.trim(), "COPY 3000");
        assert_eq!(text_rows(&client, "SELECT count(*), sum(id), max(note), min(v::text) FROM dst").await, vec![vec!["3000", "4501500", "note 999", "[1,2,3]"]]);
        // No rows: the header (or binary signature) alone, and `COPY 0`, as PostgreSQL says.
        let empty = dir.path().join("empty.csv");
        let written = out(format!("\\copy (SELECT * FROM src WHERE id < 0) to '{}' with (format csv, header)", empty.display())).unwrap();
        assert_eq!((written.trim(), std::fs::read_to_string(&empty).unwrap().as_str()), ("COPY 0", "id,note,v\n"));
        let written = out(format!("\\copy (SELECT id FROM src WHERE id < 0) to '{}' with (format binary)", empty.display())).unwrap();
        assert_eq!(written.trim(), "COPY 0");
        assert_eq!(std::fs::read(&empty).unwrap(), b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\xff\xff");
        // Between other statements of one query, the COPY's data comes in its place.
        let mixed = out("SELECT 1 AS one; COPY (SELECT 2 AS two) TO STDOUT WITH (FORMAT csv, HEADER); SELECT 3 AS three".into()).unwrap();
        let at = |s: &str| mixed.find(s).unwrap_or_else(|| panic!("{s} in {mixed}"));
        assert!(at(" one") < at("two\n2\n") && at("two\n2\n") < at(" three"), "{mixed}");
        server.stop().await;
    });
}

/// COPY's binary framing, written by hand: the signature and header, each row as a field
/// count and length-prefixed values (`None` for NULL), and the trailer.
fn binary_copy_data(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
    let mut out = b"PGCOPY\n\xff\r\n\0".to_vec();
    out.extend_from_slice(&[0; 8]);
    for row in rows {
        out.extend_from_slice(&(row.len() as i16).to_be_bytes());
        for field in row {
            match field {
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    out.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    out.extend_from_slice(v);
                }
            }
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

/// pgvector's binary form of a vector: dimensions, unused, then big-endian floats.
fn vector_binary(values: &[f32]) -> Vec<u8> {
    let mut out = (values.len() as i16).to_be_bytes().to_vec();
    out.extend_from_slice(&0i16.to_be_bytes());
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

#[test]
fn binary_copy_loads_and_writes_every_common_type() {
    use tokio_postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutStream};
    use tokio_postgres::types::{ToSql, Type};
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client
            .batch_execute("CREATE TABLE bin (id int PRIMARY KEY, name text, f float8, ok boolean, at timestamptz, u uuid, j jsonb, d date, v vector(2))")
            .await
            .unwrap();
        // tokio-postgres's own binary writer, as a Rust bulk loader uses it.
        let types = [Type::INT4, Type::TEXT, Type::FLOAT8, Type::BOOL, Type::TIMESTAMPTZ, Type::UUID, Type::JSONB, Type::DATE];
        let sink = client.copy_in("COPY bin (id, name, f, ok, at, u, j, d) FROM STDIN (FORMAT binary)").await.unwrap();
        let writer = BinaryCopyInWriter::new(sink, &types);
        futures::pin_mut!(writer);
        let at = chrono::DateTime::parse_from_rfc3339("2024-05-06T07:08:09.123456Z").unwrap().with_timezone(&chrono::Utc);
        let u = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        let j = serde_json::json!({"k": [1, "two"]});
        let d = chrono::NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        for i in 0..1000i32 {
            let name = format!("n{i}");
            let row: [&(dyn ToSql + Sync); 8] = if i == 7 {
                [&i, &None::<String>, &None::<f64>, &None::<bool>, &None::<chrono::DateTime<chrono::Utc>>, &None::<uuid::Uuid>, &None::<serde_json::Value>, &None::<chrono::NaiveDate>]
            } else {
                [&i, &name, &(i as f64 / 4.0), &(i % 2 == 0), &at, &u, &j, &d]
            };
            writer.as_mut().write(&row).await.unwrap();
        }
        assert_eq!(writer.finish().await.unwrap(), 1000);
        // Vectors, framed by hand in pgvector's binary form.
        let data = binary_copy_data(&[vec![Some(1000i32.to_be_bytes().to_vec()), Some(vector_binary(&[1.5, -2.0]))], vec![Some(1001i32.to_be_bytes().to_vec()), None]]);
        let sink = client.copy_in("COPY bin (id, v) FROM STDIN WITH (FORMAT binary)").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(Bytes::from(data)).await.unwrap();
        assert_eq!(sink.finish().await.unwrap(), 2);
        assert_eq!(
            text_rows(&client, "SELECT id, name, f, ok, at, u, j, d, v FROM bin WHERE id IN (3, 7, 1000) ORDER BY id").await,
            vec![
                vec!["3", "n3", "0.75", "f", "2024-05-06 07:08:09.123456+00", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{\"k\":[1,\"two\"]}", "1999-12-31", "NULL"],
                vec!["7", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
                vec!["1000", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "[1.5,-2]"],
            ]
        );
        // And back out, read by tokio-postgres's binary reader.
        let out = client.copy_out("COPY (SELECT id, name, f, ok, at, u, j, d FROM bin WHERE id < 1000 ORDER BY id) TO STDOUT (FORMAT binary)").await.unwrap();
        let rows: Vec<_> = BinaryCopyOutStream::new(out, &types).try_collect().await.unwrap();
        assert_eq!(rows.len(), 1000);
        let r = &rows[3];
        assert_eq!((r.get::<i32>(0), r.get::<String>(1), r.get::<f64>(2), r.get::<bool>(3)), (3, "n3".to_string(), 0.75, false));
        assert_eq!((r.get::<chrono::DateTime<chrono::Utc>>(4), r.get::<uuid::Uuid>(5), r.get::<serde_json::Value>(6), r.get::<chrono::NaiveDate>(7)), (at, u, j.clone(), d));
        assert_eq!(rows[7].get::<Option<String>>(1), None);
        // A vector column goes out in pgvector's binary form.
        let out = client.copy_out("COPY (SELECT v FROM bin WHERE id = 1000) TO STDOUT (FORMAT binary)").await.unwrap();
        let bytes: Vec<Bytes> = out.try_collect().await.unwrap();
        let all: Vec<u8> = bytes.concat();
        let want = binary_copy_data(&[vec![Some(vector_binary(&[1.5, -2.0]))]]);
        assert_eq!(all, want);
        // Malformed data (22P04), a bad value (22P03), a vector of the wrong size (22000), a
        // duplicate key (23505): nothing of the COPY is written.
        let one = |v: Vec<u8>| binary_copy_data(&[vec![Some(2000i32.to_be_bytes().to_vec()), Some(v)]]);
        let mut truncated = one(vector_binary(&[1.0, 2.0]));
        truncated.truncate(truncated.len() - 5);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("COPY bin (id, v) FROM STDIN (FORMAT binary)", b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x04\0\0\0\x01".to_vec(), "22P04"),
            ("COPY bin (id, v) FROM STDIN (FORMAT binary)", truncated, "22P04"),
            ("COPY bin (id, v) FROM STDIN (FORMAT binary)", b"not binary".to_vec(), "22P04"),
            ("COPY bin (id, f) FROM STDIN (FORMAT binary)", one(vec![0, 1]), "22P03"),
            ("COPY bin (id, v) FROM STDIN (FORMAT binary)", one(vector_binary(&[1.0, 2.0, 3.0])), "22000"),
            ("COPY bin (id, name) FROM STDIN (FORMAT binary)", binary_copy_data(&[vec![Some(3i32.to_be_bytes().to_vec()), Some(b"dup".to_vec())]]), "23505"),
        ];
        for (sql, data, code) in cases {
            let sink = client.copy_in(sql).await.unwrap();
            futures::pin_mut!(sink);
            let result = async {
                sink.send(Bytes::from(data.clone())).await?;
                sink.finish().await
            }
            .await;
            let err = result.expect_err(sql);
            assert_eq!(sqlstate(&err), code, "{sql} {data:?}: {err}");
        }
        assert_eq!(text_rows(&client, "SELECT count(*) FROM bin").await, vec![vec!["1002"]]);

        // Times, arrays (one-dimensional, with NULLs, empty) and intervals in binary.
        client.batch_execute("CREATE TABLE bin2 (id int, t time, n int[], s text[], i interval)").await.unwrap();
        let types = [Type::INT4, Type::TIME, Type::INT4_ARRAY, Type::TEXT_ARRAY];
        let sink = client.copy_in("COPY bin2 (id, t, n, s) FROM STDIN (FORMAT binary)").await.unwrap();
        let writer = BinaryCopyInWriter::new(sink, &types);
        futures::pin_mut!(writer);
        let t = chrono::NaiveTime::from_hms_micro_opt(10, 20, 30, 500).unwrap();
        let (n, s) = (vec![Some(1i32), None, Some(-3)], vec!["a b".to_string(), "q\"\\".to_string()]);
        writer.as_mut().write(&[&1i32, &t, &n, &s]).await.unwrap();
        writer.as_mut().write(&[&2i32, &None::<chrono::NaiveTime>, &Vec::<i32>::new(), &None::<Vec<String>>]).await.unwrap();
        assert_eq!(writer.finish().await.unwrap(), 2);
        let mut interval = 7_200_500_000i64.to_be_bytes().to_vec();
        interval.extend_from_slice(&1i32.to_be_bytes());
        interval.extend_from_slice(&(-1i32).to_be_bytes());
        let sink = client.copy_in("COPY bin2 (id, i) FROM STDIN (FORMAT binary)").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(Bytes::from(binary_copy_data(&[vec![Some(3i32.to_be_bytes().to_vec()), Some(interval)]]))).await.unwrap();
        assert_eq!(sink.finish().await.unwrap(), 1);
        assert_eq!(
            text_rows(&client, "SELECT id, t, n, s, i FROM bin2 ORDER BY id").await,
            vec![
                vec!["1", "10:20:30.0005", "{1,NULL,-3}", "{\"a b\",\"q\\\"\\\\\"}", "NULL"],
                vec!["2", "NULL", "{}", "NULL", "NULL"],
                vec!["3", "NULL", "NULL", "NULL", "-1 mons +1 day 02:00:00.5"],
            ]
        );
        server.stop().await;
    });
}
