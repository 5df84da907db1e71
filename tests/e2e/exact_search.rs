//! Exact nearest-neighbour search (no index): `ORDER BY <distance> LIMIT k` runs as the fused,
//! parallel top-k, and returns what a full sort of the same distances returns, with the true
//! distances (checked here in f64), NULLs last, ties in input order, binary parameters.

use std::error::Error;

use bytes::{BufMut, BytesMut};
use tokio_postgres::Client;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::harness::{TestServer, run, sqlstate, uniform};
use crate::sql::text_rows;

const DIMS: usize = 48;

/// pgvector's binary format: dimensions, a reserved word, then big-endian float32 elements.
#[derive(Debug)]
pub struct Vector(pub Vec<f32>);

impl ToSql for Vector {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_i16(self.0.len() as i16);
        out.put_i16(0);
        for x in &self.0 {
            out.put_f32(*x);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }

    to_sql_checked!();
}

fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut next = uniform(seed);
    (0..n).map(|_| (0..DIMS).map(|_| (((next() * 200.0).round() - 100.0) / 50.0) as f32).collect()).collect()
}

fn text(v: &[f32]) -> String {
    format!("[{}]", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","))
}

/// The distance of operator `op` in f64 (pgvector's definitions).
fn true_distance(op: &str, a: &[f32], b: &[f32]) -> f64 {
    let pairs = a.iter().zip(b).map(|(x, y)| (*x as f64, *y as f64));
    match op {
        "<->" => pairs.map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt(),
        "<#>" => -pairs.map(|(x, y)| x * y).sum::<f64>(),
        "<+>" => pairs.map(|(x, y)| (x - y).abs()).sum(),
        _ => {
            let (ab, aa, bb) = pairs.fold((0.0, 0.0, 0.0), |(ab, aa, bb), (x, y)| (ab + x * y, aa + x * x, bb + y * y));
            1.0 - ab / (aa * bb).sqrt()
        }
    }
}

/// `docs (id, tag, embedding vector(48))`: `n` rows, every 97th embedding NULL, and rows
/// 5000.. repeating rows 0.. (exact ties).
async fn load(client: &Client, n: usize) -> Vec<Option<Vec<f32>>> {
    client.batch_execute(&format!("CREATE TABLE docs (id int, tag int, embedding vector({DIMS}))")).await.unwrap();
    let data = vectors(5000, 11);
    let rows: Vec<Option<Vec<f32>>> = (0..n).map(|i| (i % 97 != 0).then(|| data[i % 5000].clone())).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| match &rows[*i] {
                Some(v) => format!("({i}, {}, '{}')", i % 10, text(v)),
                None => format!("({i}, {}, NULL)", i % 10),
            })
            .collect();
        client.batch_execute(&format!("INSERT INTO docs VALUES {}", values.join(","))).await.unwrap();
    }
    rows
}

async fn plan(client: &Client, sql: &str) -> String {
    text_rows(client, &format!("EXPLAIN {sql}")).await.into_iter().map(|r| r.join(" ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn exact_top_k_matches_a_full_sort_and_the_true_distances() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        let rows = load(&client, 12_000).await;
        let q = vectors(1, 99).remove(0);
        let lit = text(&q);
        for op in ["<->", "<#>", "<=>", "<+>"] {
            // The last filter is NULL for tag 0: those rows are dropped, as a WHERE drops them.
            let filters = [("", 10, 0), ("WHERE tag = 3", 25, 0), ("", 7, 30), ("WHERE tag < 5", 1, 0), ("WHERE 10 / NULLIF(tag, 0) > 2", 15, 2)];
            for (filter, k, offset) in filters {
                let top = format!("SELECT id, embedding {op} '{lit}' FROM docs {filter} ORDER BY embedding {op} '{lit}' LIMIT {k} OFFSET {offset}");
                let explained = plan(&client, &top).await;
                assert!(explained.contains("DistanceTopKExec"), "{top}");
                // The filter is evaluated by the top-k itself, without a filtered copy.
                assert_eq!(explained.contains("filter="), !filter.is_empty(), "{explained}");
                assert!(!explained.contains("FilterExec"), "{explained}");
                let got = text_rows(&client, &top).await;
                // The same rows from a full sort (no LIMIT, so DataFusion's own sort).
                let all = format!("SELECT id, embedding {op} '{lit}' FROM docs {filter} ORDER BY embedding {op} '{lit}'");
                assert!(!plan(&client, &all).await.contains("DistanceTopKExec"));
                let sorted = text_rows(&client, &all).await;
                let expected = &sorted[offset..offset + k];
                let distances = |r: &[Vec<String>]| r.iter().map(|r| r[1].clone()).collect::<Vec<_>>();
                assert_eq!(distances(&got), distances(expected), "{top}");
                for row in &got {
                    let id: usize = row[0].parse().unwrap();
                    let v = rows[id].as_ref().expect("a NULL embedding sorts last");
                    let (d, t): (f64, f64) = (row[1].parse().unwrap(), true_distance(op, v, &q));
                    assert!((d - t).abs() <= 1e-4 * t.abs().max(1.0), "{op} id {id}: {d} vs {t}");
                }
                // Rows are distinct (ties among the copies may come in either's order).
                let mut ids: Vec<&String> = got.iter().map(|r| &r[0]).collect();
                ids.sort();
                ids.dedup();
                assert_eq!(ids.len(), k);
            }
        }
        // Ties keep the table's order: rows 5000 and 10000 repeat row 0.
        let zero = text(rows[1].as_ref().unwrap());
        let tied = text_rows(&client, &format!("SELECT id FROM docs ORDER BY embedding <-> '{zero}' LIMIT 3")).await;
        assert_eq!(tied, vec![vec!["1"], vec!["5001"], vec!["10001"]]);
        // The query vector may come first, or as a binary parameter of a prepared statement.
        let swapped = text_rows(&client, &format!("SELECT id FROM docs ORDER BY '{zero}' <-> embedding LIMIT 3")).await;
        assert_eq!(swapped, tied);
        let stmt = client.prepare("SELECT id FROM docs ORDER BY embedding <-> $1 LIMIT 3").await.unwrap();
        let got: Vec<i32> = client.query(&stmt, &[&Vector(rows[1].clone().unwrap())]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(got, vec![1, 5001, 10001]);
        server.stop().await;
    });
}

#[test]
fn exact_top_k_puts_nulls_last_and_keeps_the_functions_errors() {
    run(async {
        let server = TestServer::start().await;
        let client = server.client().await;
        load(&client, 300).await;
        let q = text(&vectors(1, 5).remove(0));
        // tag 0 holds ids 0, 10, …, 290: 30 rows, of which id 0 has a NULL embedding.
        let sql = format!("SELECT id, embedding IS NULL FROM docs WHERE tag = 0 ORDER BY embedding <-> '{q}' LIMIT 40");
        assert!(plan(&client, &sql).await.contains("DistanceTopKExec"));
        let got = text_rows(&client, &sql).await;
        assert_eq!(got.len(), 30);
        assert_eq!(got.last().unwrap(), &vec!["0".to_string(), "t".to_string()]);
        assert!(got[..29].iter().all(|r| r[1] == "f"));
        let first = text_rows(&client, &format!("SELECT id FROM docs WHERE tag = 0 ORDER BY embedding <-> '{q}' NULLS FIRST LIMIT 1")).await;
        assert_eq!(first, vec![vec!["0"]]);
        // A zero vector's cosine distance is NaN, which sorts after every number.
        client.batch_execute(&format!("INSERT INTO docs VALUES (1000, 0, '[{}]')", vec!["0"; DIMS].join(","))).await.unwrap();
        let nan = text_rows(&client, &format!("SELECT id, embedding <=> '{q}' FROM docs WHERE tag = 0 ORDER BY embedding <=> '{q}' LIMIT 31")).await;
        assert_eq!(nan[29], vec!["1000".to_string(), "NaN".to_string()]);
        assert_eq!(nan[30][0], "0");
        // A LIMIT far above the table's size returns every row (and reserves nothing that large).
        let all = text_rows(&client, &format!("SELECT id FROM docs ORDER BY embedding <-> '{q}' LIMIT 1000000000")).await;
        assert_eq!(all.len(), 301);
        let err = client.simple_query("SELECT id FROM docs ORDER BY embedding <-> '[1,2]' LIMIT 1").await.unwrap_err();
        assert_eq!(sqlstate(&err), "22000");
        assert_eq!(err.as_db_error().unwrap().message(), "different vector dimensions 48 and 2");
        // Not a plain ascending distance: DataFusion's sort stays.
        for sql in [
            format!("SELECT id FROM docs ORDER BY embedding <-> '{q}' DESC LIMIT 3"),
            format!("SELECT id FROM docs ORDER BY embedding <-> '{q}', id LIMIT 3"),
            format!("SELECT id FROM docs ORDER BY embedding <-> embedding LIMIT 3"),
        ] {
            assert!(!plan(&client, &sql).await.contains("DistanceTopKExec"), "{sql}");
        }
        server.stop().await;
    });
}
