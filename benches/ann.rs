//! Approximate nearest-neighbour benchmark client: the same seeded data, queries and exact
//! ground truth against any PostgreSQL-protocol server (QuartzDB, or PostgreSQL + pgvector).
//!
//! ```text
//! cargo bench --bench ann -- load  --url URL --rows N --dims D
//! cargo bench --bench ann -- run   --url URL --rows N --dims D [--queries Q] [--k K]
//!                                  [--set name=value]... [--filter] [--label TEXT]
//! ```
//!
//! The data: `rows` vectors in 100 clusters of very uneven size (Zipf-like), each cluster a
//! random 8-dimensional subspace around its centre plus a little noise, so the data has low
//! intrinsic dimension and recall is meaningful (uniform random vectors have no neighbours
//! worth finding). Each row has `tag` (uniform over 100 values, so `tag = x` keeps 1 % of the
//! rows, independent of position). Queries are drawn from the same clusters. Ground truth is
//! exact (brute force, float32, the same L2 distance) and cached under ~/.cache/quartzdb/ann.
//!
//! `run` prepares `SELECT id FROM ann ORDER BY embedding <-> $1 LIMIT k` (or with
//! `WHERE tag = $2`), sends each query vector in pgvector's binary format over one connection,
//! and prints recall@k, rows returned per query, queries/s and latency percentiles.

use std::error::Error;
use std::io::{Read, Write};
use std::time::Instant;

use bytes::BufMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls};

const CLUSTERS: usize = 100;
const SUBSPACE: usize = 8;
const TAGS: i32 = 100;
const SEED: u64 = 0x5eed_0001;

type Res<T> = Result<T, Box<dyn Error>>;

/// xorshift64*: small, seeded, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    }
}

struct Data {
    dims: usize,
    vectors: Vec<f32>,
    tags: Vec<i32>,
    queries: Vec<f32>,
    query_tags: Vec<i32>,
}

/// Generates `rows` data vectors and `queries` query vectors.
fn generate(rows: usize, dims: usize, queries: usize) -> Data {
    let mut rng = Rng(SEED ^ (dims as u64) << 32);
    let centres: Vec<f32> = (0..CLUSTERS * dims).map(|_| rng.gauss()).collect();
    let bases: Vec<f32> = (0..CLUSTERS * SUBSPACE * dims).map(|_| rng.gauss() * 0.35 / (SUBSPACE as f32).sqrt()).collect();
    // Cluster weights ∝ 1/(i+1): the largest cluster is ~19 % of the rows, the smallest ~0.2 %.
    let weights: Vec<f64> = (0..CLUSTERS).map(|i| 1.0 / (i + 1) as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut point = |rng: &mut Rng, out: &mut Vec<f32>| {
        let mut x = rng.uniform() * total;
        let mut c = 0;
        while c + 1 < CLUSTERS && x >= weights[c] {
            x -= weights[c];
            c += 1;
        }
        let z: Vec<f32> = (0..SUBSPACE).map(|_| rng.gauss()).collect();
        for d in 0..dims {
            let mut v = centres[c * dims + d] + 0.02 * rng.gauss();
            for (s, zs) in z.iter().enumerate() {
                v += bases[(c * SUBSPACE + s) * dims + d] * zs;
            }
            out.push(v);
        }
    };
    let mut vectors = Vec::with_capacity(rows * dims);
    let mut tags = Vec::with_capacity(rows);
    for _ in 0..rows {
        point(&mut rng, &mut vectors);
        tags.push((rng.next() % TAGS as u64) as i32);
    }
    let mut qs = Vec::with_capacity(queries * dims);
    let mut query_tags = Vec::with_capacity(queries);
    for _ in 0..queries {
        point(&mut rng, &mut qs);
        query_tags.push((rng.next() % TAGS as u64) as i32);
    }
    Data { dims, vectors, tags, queries: qs, query_tags }
}

fn l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Exact top-k ids (1-based row numbers) per query, computed on all cores, cached on disk.
fn ground_truth(data: &Data, k: usize, filtered: bool) -> Res<Vec<Vec<i64>>> {
    let rows = data.tags.len();
    let nq = data.query_tags.len();
    let dir = std::path::PathBuf::from(std::env::var("HOME")?).join(".cache/quartzdb/ann");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("gt-{rows}x{}-{nq}-k{k}-{}.bin", data.dims, if filtered { "tag" } else { "all" }));
    if let Ok(mut f) = std::fs::File::open(&path) {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        if bytes.len() == nq * k * 8 {
            let ids: Vec<i64> = bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect();
            return Ok(ids.chunks(k).map(|c| c.iter().copied().filter(|i| *i > 0).collect()).collect());
        }
    }
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let per = nq.div_ceil(threads);
    let truth: Vec<Vec<i64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t * per..((t + 1) * per).min(nq))
                        .map(|q| {
                            let query = &data.queries[q * data.dims..(q + 1) * data.dims];
                            let mut best: Vec<(f32, i64)> = (0..rows)
                                .filter(|r| !filtered || data.tags[*r] == data.query_tags[q])
                                .map(|r| (l2(&data.vectors[r * data.dims..(r + 1) * data.dims], query), r as i64 + 1))
                                .collect();
                            let kk = k.min(best.len());
                            if kk > 0 {
                                best.select_nth_unstable_by(kk - 1, |a, b| a.0.total_cmp(&b.0));
                            }
                            best.truncate(kk);
                            best.iter().map(|(_, id)| *id).collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("ground truth thread")).collect()
    });
    let mut f = std::fs::File::create(&path)?;
    for ids in &truth {
        for i in 0..k {
            f.write_all(&ids.get(i).copied().unwrap_or(0).to_le_bytes())?;
        }
    }
    eprintln!("ground truth for {nq} queries over {rows} rows: {:.1} s", started.elapsed().as_secs_f64());
    Ok(truth)
}

/// A vector parameter in pgvector's binary format (dims, unused, float4s, network order).
#[derive(Debug)]
struct Vector<'a>(&'a [f32]);

impl ToSql for Vector<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_i16(self.0.len() as i16);
        out.put_i16(0);
        for v in self.0 {
            out.put_f32(*v);
        }
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }
    to_sql_checked!();
}

fn text_vector(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.5}")).collect();
    format!("[{}]", parts.join(","))
}

async fn connect(url: &str) -> Res<Client> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn load(client: &Client, data: &Data) -> Res<()> {
    let started = Instant::now();
    client.batch_execute("CREATE EXTENSION IF NOT EXISTS vector; DROP TABLE IF EXISTS ann").await?;
    client.batch_execute(&format!("CREATE TABLE ann (id bigint PRIMARY KEY, tag integer NOT NULL, embedding vector({}))", data.dims)).await?;
    let rows = data.tags.len();
    const BATCH: usize = 500;
    for start in (0..rows).step_by(BATCH) {
        let mut sql = String::from("INSERT INTO ann (id, tag, embedding) VALUES ");
        for r in start..(start + BATCH).min(rows) {
            if r > start {
                sql.push(',');
            }
            let v = &data.vectors[r * data.dims..(r + 1) * data.dims];
            sql.push_str(&format!("({}, {}, '{}')", r + 1, data.tags[r], text_vector(v)));
        }
        client.batch_execute(&sql).await?;
    }
    eprintln!("loaded {rows} rows in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn run(client: &Client, data: &Data, k: usize, filtered: bool, label: &str) -> Res<()> {
    let truth = ground_truth(data, k, filtered)?;
    let sql = if filtered {
        format!("SELECT id FROM ann WHERE tag = $2 ORDER BY embedding <-> $1 LIMIT {k}")
    } else {
        format!("SELECT id FROM ann ORDER BY embedding <-> $1 LIMIT {k}")
    };
    let stmt = client.prepare(&sql).await?;
    let nq = data.query_tags.len();
    let query = |q: usize| &data.queries[q * data.dims..(q + 1) * data.dims];
    // Warm up: caches, opened indexes.
    for q in 0..nq.min(50) {
        let v = Vector(query(q));
        if filtered {
            client.query(&stmt, &[&v, &data.query_tags[q]]).await?;
        } else {
            client.query(&stmt, &[&v]).await?;
        }
    }
    let mut latencies = Vec::with_capacity(nq);
    let (mut found, mut wanted, mut returned) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for q in 0..nq {
        let v = Vector(query(q));
        let t = Instant::now();
        let rows = if filtered { client.query(&stmt, &[&v, &data.query_tags[q]]).await? } else { client.query(&stmt, &[&v]).await? };
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        returned += ids.len();
        wanted += truth[q].len();
        found += truth[q].iter().filter(|id| ids.contains(id)).count();
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{label:<44} recall@{k} {:.3}  rows/query {:>5.2}  {:>7.1} queries/s  p50 {:.2} ms  p99 {:.2} ms",
        found as f64 / wanted.max(1) as f64,
        returned as f64 / nq as f64,
        nq as f64 / secs,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let command = args.first().cloned().unwrap_or_default();
    let url: String = arg(&args, "--url", "host=127.0.0.1 port=5433 user=quartz dbname=quartz".to_string());
    let rows = arg(&args, "--rows", 100_000usize);
    let dims = arg(&args, "--dims", 128usize);
    let queries = arg(&args, "--queries", 1000usize);
    let k = arg(&args, "--k", 10usize);
    let label: String = arg(&args, "--label", String::new());
    let data = generate(rows, dims, queries);
    let client = connect(&url).await?;
    match command.as_str() {
        "load" => load(&client, &data).await,
        "run" => {
            for (i, a) in args.iter().enumerate() {
                if a == "--set"
                    && let Some((name, value)) = args.get(i + 1).and_then(|s| s.split_once('='))
                {
                    client.batch_execute(&format!("SET {name} = {value}")).await?;
                }
            }
            run(&client, &data, k, args.iter().any(|a| a == "--filter"), &label).await
        }
        _ => Err("usage: ann load|run --url URL --rows N --dims D [--queries Q] [--k K] [--set name=value] [--filter] [--label L]".into()),
    }
}
