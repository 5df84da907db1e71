//! Vector indexes end to end: the ANN rule's EXPLAIN on both sides, recall against exact search
//! on seeded clustered data, filtered search returning k rows, fresh and deleted rows, restarts.

use tokio_postgres::Client;

use crate::exact_search::Vector;
use crate::harness::{TestServer, run, sqlstate, uniform};
use crate::sql::text_rows;

const DIMS: usize = 16;

/// Seeded clustered vectors: 20 overlapping clusters of uneven size, so neighbours are
/// meaningful. (Lance's HNSW graphs over tight clusters far apart need a larger
/// `hnsw.ef_search`; docs/vector.md says so.)
fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut next = uniform(seed);
    let centres: Vec<Vec<f32>> = (0..20).map(|_| (0..DIMS).map(|_| (next() * 4.0 - 2.0) as f32).collect()).collect();
    (0..n)
        .map(|_| {
            let c = ((next() * next()) * 20.0) as usize;
            centres[c].iter().map(|x| x + (next() as f32 - 0.5) * 2.0).collect()
        })
        .collect()
}

fn text(v: &[f32]) -> String {
    format!("[{}]", v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(","))
}

/// `docs (id, tag, embedding vector(16))` with `n` rows; `tag` is `id % 100`.
async fn load(client: &Client, n: usize) {
    // Small tables are searched exactly without their index; these tests are about the index.
    client.batch_execute("SET quartz.exact_search_below = 0").await.unwrap();
    client.batch_execute(&format!("CREATE TABLE docs (id bigint PRIMARY KEY, tag int, embedding vector({DIMS}))")).await.unwrap();
    let data = vectors(n, 42);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, {}, '{}')", i % 100, text(&data[*i]))).collect();
        client.batch_execute(&format!("INSERT INTO docs VALUES {}", values.join(","))).await.unwrap();
    }
}

async fn plan(client: &Client, sql: &str) -> String {
    text_rows(client, &format!("EXPLAIN {sql}")).await.into_iter().map(|r| r.join(" ")).collect::<Vec<_>>().join("\n")
}

async fn ids(client: &Client, sql: &str) -> Vec<String> {
    text_rows(client, sql).await.into_iter().map(|r| r[0].clone()).collect()
}

/// The ids a query returns through its index, and without it (`enable_indexscan = off`).
async fn indexed_and_exact(client: &Client, sql: &str) -> (Vec<String>, Vec<String>) {
    let approx = ids(client, sql).await;
    client.batch_execute("SET enable_indexscan = off").await.unwrap();
    let exact = ids(client, sql).await;
    client.batch_execute("SET enable_indexscan = on").await.unwrap();
    (approx, exact)
}

/// Mean share of the exact top-k that the indexed search found, over `queries`.
async fn recall(client: &Client, op: &str, queries: &[Vec<f32>], k: usize) -> f64 {
    let mut found = 0;
    for q in queries {
        let sql = format!("SELECT id FROM docs ORDER BY embedding {op} '{}' LIMIT {k}", text(q));
        let (approx, exact) = indexed_and_exact(client, &sql).await;
        assert_eq!(approx.len(), k);
        found += exact.iter().filter(|id| approx.contains(id)).count();
    }
    found as f64 / (queries.len() * k) as f64
}

#[test]
fn the_ann_rule_fires_only_where_it_keeps_results() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        load(&client, 1000).await;
        client.batch_execute("CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) WITH (m = 12); CREATE INDEX ON docs (tag)").await.unwrap();
        assert_eq!(
            text_rows(&client, "SELECT tablename, indexname, indexdef FROM pg_indexes ORDER BY indexname").await,
            vec![
                vec!["docs", "docs_embedding_idx", "CREATE INDEX docs_embedding_idx ON public.docs USING hnsw (embedding vector_cosine_ops) WITH (m='12')"],
                // The primary key's index, as PostgreSQL lists it.
                vec!["docs", "docs_pkey", "CREATE UNIQUE INDEX docs_pkey ON public.docs USING btree (id)"],
                vec!["docs", "docs_tag_idx", "CREATE INDEX docs_tag_idx ON public.docs USING btree (tag)"],
            ]
        );
        let def = text_rows(&client, "SELECT pg_get_indexdef(min(oid)) FROM (SELECT 0 AS oid) t").await;
        assert_eq!(def, vec![vec!["NULL"]], "an OID that is no index gives NULL");
        let q = text(&vectors(1, 7)[0]);
        let fires = [
            format!("SELECT id FROM docs ORDER BY embedding <=> '{q}' LIMIT 5"),
            format!("SELECT id, embedding <=> '{q}' AS d FROM docs ORDER BY d LIMIT 5"),
            format!("SELECT id FROM docs WHERE tag = 3 ORDER BY embedding <=> '{q}' LIMIT 5"),
            format!("SELECT id FROM docs ORDER BY embedding <=> '{q}' LIMIT 5 OFFSET 10"),
            format!("SELECT d.id FROM docs d ORDER BY d.embedding <=> '{q}' ASC LIMIT 5"),
            format!("SELECT id FROM docs ORDER BY cosine_distance(embedding, '{q}') LIMIT 5"),
        ];
        for sql in &fires {
            assert!(plan(&client, sql).await.contains("VectorIndexScanExec"), "should use the index: {sql}");
        }
        let exact = [
            format!("SELECT id FROM docs ORDER BY embedding <=> '{q}' DESC LIMIT 5"),
            format!("SELECT id FROM docs ORDER BY embedding <=> '{q}'"),
            format!("SELECT id FROM docs ORDER BY embedding <-> '{q}' LIMIT 5"),
            format!("SELECT id FROM docs ORDER BY 1 - (embedding <=> '{q}') DESC LIMIT 5"),
            format!("SELECT id FROM docs ORDER BY embedding <=> '{q}', id LIMIT 5"),
            format!("SELECT id FROM docs WHERE id + 1 > 5 ORDER BY embedding <=> '{q}' LIMIT 5"),
            format!("SELECT a.id FROM docs a JOIN docs b ON a.id = b.id ORDER BY a.embedding <=> '{q}' LIMIT 5"),
            format!("SELECT tag FROM docs GROUP BY tag ORDER BY min(embedding <=> '{q}') LIMIT 5"),
            format!("SELECT id FROM docs ORDER BY embedding <=> embedding LIMIT 5"),
        ];
        for sql in &exact {
            assert!(!plan(&client, sql).await.contains("VectorIndexScanExec"), "must stay exact: {sql}");
        }
        client.batch_execute("SET enable_indexscan = off").await.unwrap();
        assert!(!plan(&client, &fires[0]).await.contains("VectorIndexScanExec"));
        client.batch_execute("RESET enable_indexscan").await.unwrap();
        // A prepared statement's parameter is bound before planning, so it uses the index too.
        let stmt = client.prepare("SELECT id FROM docs ORDER BY embedding <=> $1 LIMIT 3").await.unwrap();
        assert_eq!(stmt.params()[0].name(), "vector");
        let rows = client.query("EXPLAIN SELECT id FROM docs ORDER BY embedding <=> $1::text LIMIT 3", &[&q]).await.unwrap();
        let explained: Vec<String> = rows.iter().map(|r| r.get::<_, String>(1)).collect();
        assert!(explained.join("\n").contains("VectorIndexScanExec"), "{explained:?}");
        server.stop().await;
    });
}

#[test]
fn indexed_search_has_high_recall_and_the_exact_distances() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        load(&client, 3000).await;
        // Queries from the data's own distribution: the rows after the table's 3000.
        let queries = vectors(3020, 42).split_off(3000);
        client.batch_execute("CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)").await.unwrap();
        let r = recall(&client, "<->", &queries, 10).await;
        assert!(r >= 0.95, "hnsw recall {r}");
        client.batch_execute("CREATE INDEX ON docs USING ivfflat (embedding vector_cosine_ops) WITH (lists = 20)").await.unwrap();
        let r = recall(&client, "<=>", &queries, 10).await;
        assert!(r >= 0.95, "ivfflat recall {r}");
        client.batch_execute("CREATE INDEX ON docs USING ivf_pq (embedding vector_ip_ops) WITH (num_partitions = 10, num_sub_vectors = 4)").await.unwrap();
        let r = recall(&client, "<#>", &queries, 10).await;
        assert!(r >= 0.9, "ivf_pq recall {r}");
        // Distances through the index are the exact functions' values.
        let q = text(&queries[0]);
        let sql = format!("SELECT id, embedding <-> '{q}' AS d, l2_distance(embedding, '{q}') AS e FROM docs ORDER BY embedding <-> '{q}' LIMIT 5");
        assert!(plan(&client, &sql).await.contains("VectorIndexScanExec"));
        for row in text_rows(&client, &sql).await {
            assert_eq!(row[1], row[2]);
        }
        server.stop().await;
    });
}

#[test]
fn filtered_search_returns_k_rows_at_any_selectivity() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        load(&client, 3000).await;
        client.batch_execute("CREATE INDEX ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 30); CREATE INDEX ON docs (tag)").await.unwrap();
        let q = text(&vectors(1, 5)[0]);
        // tag = 7 keeps 1 % of the rows (30); tag < 50 half of them, tag < 90 nine tenths. Exact
        // when at most `exact_search_below` rows match, or when comparing them costs less than
        // the widened index search, which at 16 dimensions it always does (a row of an IVF list
        // costs a mask lookup, worth 40 distances this short). 0 turns exact search off.
        let cases = [("tag = 7", "100", true), ("tag = 7", "0", false), ("tag < 50", "0", false), ("tag < 50", "100", true), ("tag < 90", "100", true), ("tag < 90", "0", false)];
        for (filter, exact_below, exact_search) in cases {
            client.batch_execute(&format!("SET quartz.exact_search_below = {exact_below}")).await.unwrap();
            let sql = format!("SELECT id FROM docs WHERE {filter} ORDER BY embedding <-> '{q}' LIMIT 10");
            let explained = plan(&client, &sql).await;
            assert!(explained.contains("VectorIndexScanExec"), "{explained}");
            assert_eq!(explained.contains("exact search of"), exact_search, "{filter}, exact below {exact_below}: {explained}");
            let (approx, exact) = indexed_and_exact(&client, &sql).await;
            assert_eq!(approx.len(), 10, "{filter}, exact below {exact_below}: {approx:?}");
            let found = exact.iter().filter(|id| approx.contains(id)).count();
            assert!(found >= 8, "{filter}, exact below {exact_below}: {found} of 10");
        }
        // Fewer matches than k: all of them, nothing else.
        let sql = format!("SELECT id FROM docs WHERE id < 4 ORDER BY embedding <-> '{q}' LIMIT 10");
        let mut got = ids(&client, &sql).await;
        got.sort();
        assert_eq!(got, vec!["0", "1", "2", "3"]);

        // Once the filter's column is in the scan cache (loaded in the background after the
        // first filtered search), the filter is evaluated there and the index searched
        // directly with its rows as the prefilter, by an IVF index and by a graph.
        client.batch_execute("SET quartz.exact_search_below = 0").await.unwrap();
        for index in ["ivfflat (embedding vector_l2_ops) WITH (lists = 30)", "hnsw (embedding vector_l2_ops)"] {
            client.batch_execute(&format!("DROP INDEX IF EXISTS docs_embedding_idx; CREATE INDEX docs_embedding_idx ON docs USING {index}")).await.unwrap();
            for filter in ["tag = 7", "tag < 50", "tag >= 20 AND tag < 30 OR id = 3"] {
                let sql = format!("SELECT id FROM docs WHERE {filter} ORDER BY embedding <-> '{q}' LIMIT 10");
                let explained = direct_plan(&client, &sql).await;
                assert!(explained.contains(", prefilter, direct"), "{index}, {filter}: {explained}");
                let (approx, exact) = indexed_and_exact(&client, &sql).await;
                assert_eq!(approx.len(), 10, "{index}, {filter}: {approx:?}");
                let found = exact.iter().filter(|id| approx.contains(id)).count();
                assert!(found >= 8, "{index}, {filter}: {found} of 10");
            }
        }
        // A filter keeping only rows far from the query (the farther half): the lists nearest
        // the query hold few of them, so the direct search probes on past its widened probes
        // until it has k rows. (With one probe the rows are approximate; k of them come back.)
        client.batch_execute("DROP INDEX docs_embedding_idx; CREATE INDEX docs_embedding_idx ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 30); SET ivfflat.probes = 1").await.unwrap();
        let far = ids(&client, &format!("SELECT id FROM docs ORDER BY embedding <-> '{q}' DESC LIMIT 1500")).await;
        let sql = format!("SELECT id FROM docs WHERE id IN ({}) ORDER BY embedding <-> '{q}' LIMIT 10", far.join(","));
        let explained = direct_plan(&client, &sql).await;
        assert!(explained.contains(", prefilter, direct"), "{explained}");
        let approx = ids(&client, &sql).await;
        assert_eq!(approx.len(), 10, "{approx:?}");
        assert!(approx.iter().all(|id| far.contains(id)), "{approx:?}");
        client.batch_execute("RESET ivfflat.probes").await.unwrap();
        // Deleted rows never come back through a filter: the search leaves the cached rows
        // (whose positions deletions shift) for Lance's prefilter.
        let sql = format!("SELECT id FROM docs WHERE tag < 50 ORDER BY embedding <-> '{q}' LIMIT 10");
        let before = ids(&client, &sql).await;
        client.batch_execute(&format!("DELETE FROM docs WHERE id IN ({})", before[..3].join(","))).await.unwrap();
        let after = ids(&client, &sql).await;
        assert_eq!(after.len(), 10);
        assert!(before[..3].iter().all(|id| !after.contains(id)), "{before:?} then {after:?}");
        assert!(!plan(&client, &sql).await.contains(", direct"));
        server.stop().await;
    });
}

/// EXPLAIN of a filtered search once the filter's column is cached: searches until its load,
/// started in the background by the first of them, is done (or 30 s pass).
async fn direct_plan(client: &Client, sql: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        ids(client, sql).await;
        let explained = plan(client, sql).await;
        if explained.contains(", direct") || std::time::Instant::now() > deadline {
            return explained;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[test]
fn new_rows_are_found_and_deleted_rows_never_return() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_in(dir.path()).await;
        let client = server.client().await;
        load(&client, 1000).await;
        // Probing every list makes the index search exhaustive, so each answer below is exact
        // and any miss is a freshness bug, not approximation: a graph index (hnsw) may
        // legitimately miss an outlier such as the probe, whose in-edges its pruning can drop.
        client.batch_execute("CREATE INDEX docs_ivf ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 4); SET ivfflat.probes = 4").await.unwrap();
        let probe = vec![9.0f32; DIMS];
        let sql = format!("SELECT id FROM docs ORDER BY embedding <-> '{}' LIMIT 1", text(&probe));
        client.batch_execute(&format!("INSERT INTO docs VALUES (5000, 1, '{}')", text(&probe))).await.unwrap();
        assert_eq!(ids(&client, &sql).await, vec!["5000"], "a row inserted after the build is found");
        client.batch_execute("DELETE FROM docs WHERE id = 5000").await.unwrap();
        assert_ne!(ids(&client, &sql).await, vec!["5000"], "a deleted row never comes back");
        client.batch_execute(&format!("UPDATE docs SET embedding = '{}' WHERE id = 17", text(&probe))).await.unwrap();
        assert_eq!(ids(&client, &sql).await, vec!["17"], "an updated row is found by its new value");
        // Enough new rows are folded into the index; VACUUM folds the rest.
        let more = vectors(3000, 8);
        for chunk in (0..3000).collect::<Vec<_>>().chunks(500) {
            let values: Vec<String> = chunk.iter().map(|i| format!("({}, 0, '{}')", 10_000 + i, text(&more[*i]))).collect();
            client.batch_execute(&format!("INSERT INTO docs VALUES {}", values.join(","))).await.unwrap();
        }
        client.batch_execute("VACUUM docs").await.unwrap();
        // The index now covers every row: the direct path (taken only then) answers.
        assert!(plan(&client, &sql).await.contains(", direct"), "{}", plan(&client, &sql).await);
        assert_eq!(ids(&client, &sql).await, vec!["17"]);
        let q = text(&more[5]);
        assert_eq!(ids(&client, &format!("SELECT id FROM docs ORDER BY embedding <-> '{q}' LIMIT 1")).await, vec!["10005"]);
        drop(client);
        server.stop().await;

        // The index is durable: after a restart it is still there and still used.
        let server = TestServer::start_in(dir.path()).await;
        let client = server.client().await;
        client.batch_execute("SET quartz.exact_search_below = 0; SET ivfflat.probes = 4").await.unwrap();
        assert!(plan(&client, &sql).await.contains("VectorIndexScanExec: index=docs_ivf"));
        assert_eq!(ids(&client, &sql).await, vec!["17"]);
        client.batch_execute("DROP INDEX docs_ivf").await.unwrap();
        assert!(!plan(&client, &sql).await.contains("VectorIndexScanExec"));
        assert_eq!(ids(&client, &sql).await, vec!["17"]);
        server.stop().await;
    });
}

#[test]
fn index_ddl_errors_have_postgres_sqlstates() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        client.batch_execute("CREATE TABLE t (id int, v vector(3), u vector, h halfvec(3))").await.unwrap();
        for (sql, code) in [
            ("CREATE INDEX ON t USING hnsw (v vector_l1_ops)", "0A000"),
            ("CREATE INDEX ON t USING hnsw (v bit_hamming_ops)", "0A000"),
            ("CREATE INDEX ON t USING hnsw (u vector_l2_ops)", "42804"),
            ("CREATE INDEX ON t USING hnsw (id)", "0A000"),
            ("CREATE INDEX ON t (v)", "0A000"),
            ("CREATE INDEX ON t USING hnsw (v, h)", "0A000"),
            ("CREATE UNIQUE INDEX ON t (id)", "0A000"),
            ("CREATE INDEX ON t USING gin (id)", "0A000"),
            ("CREATE INDEX ON nope USING hnsw (v)", "42P01"),
            ("CREATE INDEX ON t USING hnsw (nope)", "42703"),
            ("CREATE INDEX ON t USING hnsw (v) WITH (m = 'x')", "22023"),
            ("CREATE INDEX ON t USING ivf_pq (v) WITH (num_sub_vectors = 2)", "22023"),
            ("SET ivfflat.probes = 0", "22023"),
            ("SET hnsw.iterative_scan = sideways", "22023"),
        ] {
            let err = client.batch_execute(sql).await.expect_err(sql);
            assert_eq!(sqlstate(&err), code, "{sql}: {err}");
        }
        // halfvec columns take the halfvec classes.
        client.batch_execute("CREATE INDEX ON t USING hnsw (h halfvec_cosine_ops); INSERT INTO t VALUES (1, '[1,2,3]', '[1]', '[1,2,3]')").await.unwrap();
        assert_eq!(ids(&client, "SELECT id FROM t ORDER BY h <=> '[1,2,3]' LIMIT 1").await, vec!["1"]);
        // SET LOCAL lasts until the end of the block.
        client.batch_execute("BEGIN; SET LOCAL hnsw.ef_search = 77").await.unwrap();
        assert_eq!(ids(&client, "SHOW hnsw.ef_search").await, vec!["77"]);
        client.batch_execute("COMMIT").await.unwrap();
        assert_eq!(ids(&client, "SHOW hnsw.ef_search").await, vec!["40"]);
        server.stop().await;
    });
}

#[test]
fn vector_search_is_a_table_of_the_nearest_rows() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        load(&client, 1000).await;
        client.batch_execute("CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops)").await.unwrap();
        client.batch_execute("CREATE TABLE tags (tag int, name text); INSERT INTO tags SELECT i, 'tag ' || i FROM generate_series(0, 99) AS s(i)").await.unwrap();
        let q = text(&vectors(1, 3)[0]);
        let hand = format!("SELECT id, embedding <=> '{q}' AS d FROM docs ORDER BY embedding <=> '{q}' LIMIT 5");
        let search = format!("SELECT id, distance FROM vector_search('docs', 'embedding', '{q}', 5, 'cosine') ORDER BY distance");
        assert_eq!(text_rows(&client, &search).await, text_rows(&client, &hand).await);
        assert!(plan(&client, &search).await.contains("VectorIndexScanExec"), "vector_search uses the index");
        // It joins and nests like any table.
        let joined = format!(
            "WITH near AS (SELECT * FROM vector_search('docs', 'embedding', '{q}', 5, 'cosine')) \
             SELECT near.id, tags.name FROM near JOIN tags ON tags.tag = near.tag ORDER BY near.distance"
        );
        let rows = text_rows(&client, &joined).await;
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0][1], format!("tag {}", rows[0][0].parse::<i64>().unwrap() % 100));
        // Parameters work, and its columns are the table's plus `distance`.
        let stmt = client.prepare("SELECT * FROM vector_search('docs', 'embedding', $1::text, 3)").await.unwrap();
        let names: Vec<&str> = stmt.columns().iter().map(|c| c.name()).collect();
        assert_eq!(names, vec!["id", "tag", "embedding", "distance"]);
        assert_eq!(client.query(&stmt, &[&q]).await.unwrap().len(), 3);
        for (sql, code) in [
            ("SELECT * FROM vector_search('docs', 'embedding')", "42883"),
            ("SELECT * FROM vector_search('docs', 'embedding', '[1]', 3, 'hamming')", "22023"),
            ("SELECT * FROM vector_search('nope', 'embedding', '[1]', 3)", "42P01"),
            ("SELECT * FROM vector_search('docs; DROP TABLE docs', 'embedding', '[1]', 3)", "22023"),
        ] {
            let err = client.batch_execute(sql).await.expect_err(sql);
            assert_eq!(sqlstate(&err), code, "{sql}: {err}");
        }
        server.stop().await;
    });
}

/// A prepared search runs its first plan again with each new vector (see planner/src/
/// param_slots.rs): every answer must be the one for that execution's vector, also while a
/// portal of an earlier execution is still open, and values the plan was not made for (a
/// NULL, another dimension) get what a fresh plan gives.
#[test]
fn prepared_searches_answer_each_execution_for_its_own_vector() {
    run(async {
        let server = TestServer::start().await;
        let mut client = server.client().await;
        load(&client, 1000).await;
        // Probing every list makes the index search exact, so answers compare with exact ones.
        client.batch_execute("CREATE INDEX ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 4); SET ivfflat.probes = 4").await.unwrap();
        let exact_client = server.client().await;
        exact_client.batch_execute("SET enable_indexscan = off").await.unwrap();
        let exact = |q: &[f32]| {
            let sql = format!("SELECT id FROM docs ORDER BY embedding <-> '{}' LIMIT 5", text(q));
            let exact_client = &exact_client;
            async move { ids(exact_client, &sql).await }
        };
        let stmt = client.prepare("SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 5").await.unwrap();
        // As the text the exact query sends reads them.
        let queries: Vec<Vec<f32>> = vectors(1020, 42).split_off(1000).iter().map(|q| q.iter().map(|x| format!("{x:.4}").parse().unwrap()).collect()).collect();
        for q in &queries {
            let rows = client.query(&stmt, &[&Vector(q.clone())]).await.unwrap();
            let got: Vec<String> = rows.iter().map(|r| r.get::<_, i64>(0).to_string()).collect();
            assert_eq!(got, exact(q).await);
        }
        // A portal of one execution stays suspended while the statement runs for another vector.
        let (a, b) = (&queries[0], &queries[1]);
        let txn = client.transaction().await.unwrap();
        let portal = txn.bind(&stmt, &[&Vector(a.clone())]).await.unwrap();
        let mut first: Vec<String> = txn.query_portal(&portal, 2).await.unwrap().iter().map(|r| r.get::<_, i64>(0).to_string()).collect();
        let other: Vec<String> = txn.query(&stmt, &[&Vector(b.clone())]).await.unwrap().iter().map(|r| r.get::<_, i64>(0).to_string()).collect();
        first.extend(txn.query_portal(&portal, 10).await.unwrap().iter().map(|r| r.get::<_, i64>(0).to_string()));
        txn.commit().await.unwrap();
        assert_eq!(first, exact(a).await);
        assert_eq!(other, exact(b).await);
        // Another dimension is pgvector's error, as when the statement is planned for it.
        let err = client.query(&stmt, &[&Vector(vec![1.0, 2.0])]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "22000", "{err:?}");
        let err = client.query("SELECT id FROM docs ORDER BY embedding <-> '[1,2]' LIMIT 5", &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "22000", "{err:?}");
        let rows = client.query(&stmt, &[&Vector(a.clone())]).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.get::<_, i64>(0).to_string()).collect::<Vec<_>>(), exact(a).await);
        server.stop().await;
    });
}

/// A long index build shows in `pg_stat_progress_create_index` (from another session) and stops
/// when cancelled: the statement fails with 57014, no index is left, the table takes writes.
#[test]
fn index_builds_show_progress_and_can_be_cancelled() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        load(&client, 6000).await;
        let watcher = server.client().await;
        let token = client.cancel_token();
        // ef_construction high enough that the graph build takes seconds, not milliseconds.
        let build = tokio::spawn(async move {
            let r = client.batch_execute("CREATE INDEX docs_hnsw ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 32, ef_construction = 400)").await;
            (client, r)
        });
        let mut phases = Vec::new();
        for _ in 0..600 {
            let rows = text_rows(&watcher, "SELECT command, phase, relid = (SELECT oid FROM pg_class WHERE relname = 'docs') FROM pg_stat_progress_create_index").await;
            if let Some(row) = rows.first() {
                assert_eq!((row[0].as_str(), row[2].as_str()), ("CREATE INDEX", "t"), "{row:?}");
                phases.push(row[1].clone());
                if row[1].starts_with("building index: building") || phases.len() > 3 {
                    break;
                }
            }
            if build.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(!phases.is_empty(), "the build never showed in pg_stat_progress_create_index");
        assert!(phases.iter().all(|p| p.starts_with("building index") || p == "initializing"), "{phases:?}");
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        let (client, result) = build.await.unwrap();
        let err = result.expect_err("the cancelled build failed");
        assert_eq!(sqlstate(&err), "57014", "{err:?}");
        assert!(text_rows(&watcher, "SELECT * FROM pg_stat_progress_create_index").await.is_empty());
        assert!(text_rows(&watcher, "SELECT indexname FROM pg_indexes WHERE tablename = 'docs' AND indexname = 'docs_hnsw'").await.is_empty());
        client.batch_execute("INSERT INTO docs (id, tag) VALUES (100000, 1)").await.unwrap();
        assert_eq!(text_rows(&client, "SELECT count(*) FROM docs").await, vec![vec!["6001".to_string()]]);
        server.stop().await;
    });
}
