#!/usr/bin/env bash
# Approximate nearest-neighbour search, QuartzDB next to PostgreSQL + pgvector in one run: the
# same seeded clustered data, the same 1,000 queries with exact ground truth, the same client
# (benches/ann.rs: one connection, a prepared statement, the query vector as a binary parameter).
#
#   benches/ann.sh [rows] [dims] [queries]        (default 100000 128 1000)
#
# Reports recall@10, rows returned, queries/s and latency for a sweep of each index's search
# knob, plus build time, index size and the server's peak memory; then the 1 % filtered case
# (`WHERE tag = $2`, ground truth within the filter). PostgreSQL runs only when pgvector is
# installed for the local PostgreSQL (`$(pg_config --sharedir)/extension/vector.control`).
# Servers run on loopback with throwaway data directories and stop at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-100000}"
DIMS="${2:-128}"
QUERIES="${3:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quartzdb/target}"
WORK="$(mktemp -d)"
chmod 755 "$WORK"   # the postgres user runs the PostgreSQL side in here
QPORT=55437
PGPORT=55438
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
cleanup() {
  [ -n "${QPID:-}" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
  [ -d "$WORK/pg" ] && su postgres -c "$PGBIN/pg_ctl -D $WORK/pg -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --bin quartzdb >&2
cargo bench --bench ann --no-run >&2 2>/dev/null || cargo bench --bench ann --no-run >&2
client() { cargo bench -q --bench ann -- "$@" --rows "$ROWS" --dims "$DIMS" --queries "$QUERIES" 2>/dev/null; }
peak_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $ROWS × $DIMS clustered vectors, $QUERIES queries, k = 10"
echo

# ---- QuartzDB ----
"$CARGO_TARGET_DIR/release/quartzdb" --data-dir "$WORK/quartz" --listen "127.0.0.1:$QPORT" --log warn &
QPID=$!
for _ in $(seq 100); do psql -h 127.0.0.1 -p "$QPORT" -U quartz -d quartz -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
QURL="host=127.0.0.1 port=$QPORT user=quartz dbname=quartz"
qsql() { psql -qAt -h 127.0.0.1 -p "$QPORT" -U quartz -d quartz -c "$1"; }
index_mb() { du -sm "$WORK"/quartz/tables/*/_indices 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
timed() { local t0 t1; t0=$(date +%s.%N); qsql "$1" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }

client load --url "$QURL"
echo "QuartzDB: loaded, peak RSS $(peak_mb $QPID) MB"
qsql "SET enable_indexscan = off" >/dev/null
client run --url "$QURL" --label "QuartzDB exact (no index)" --queries 100 || true

secs=$(timed "CREATE INDEX ann_hnsw ON ann USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)")
echo "QuartzDB hnsw (IVF_HNSW_SQ, m 16, ef_construction 64): build ${secs} s, index $(index_mb) MB, peak RSS $(peak_mb $QPID) MB"
client run --url "$QURL" --label "QuartzDB hnsw default"
for ef in 10 20 40 80 160; do client run --url "$QURL" --set "hnsw.ef_search=$ef" --label "QuartzDB hnsw ef_search=$ef"; done
qsql "DROP INDEX ann_hnsw"

LISTS=$(awk -v n="$ROWS" 'BEGIN { l = int(sqrt(n)); print (l < 1 ? 1 : l) }')
secs=$(timed "CREATE INDEX ann_ivf ON ann USING ivfflat (embedding vector_l2_ops) WITH (lists = $LISTS)")
echo "QuartzDB ivfflat (IVF_FLAT, lists $LISTS): build ${secs} s, index $(index_mb) MB, peak RSS $(peak_mb $QPID) MB"
client run --url "$QURL" --label "QuartzDB ivfflat default"
for p in 1 2 4 8 16 32; do client run --url "$QURL" --set "ivfflat.probes=$p" --label "QuartzDB ivfflat probes=$p"; done
qsql "DROP INDEX ann_ivf"

secs=$(timed "CREATE INDEX ann_pq ON ann USING ivf_pq (embedding vector_l2_ops) WITH (num_partitions = $LISTS)")
echo "QuartzDB ivf_pq (IVF_PQ, $LISTS partitions, default sub-vectors): build ${secs} s, index $(index_mb) MB, peak RSS $(peak_mb $QPID) MB"
for p in 4 8 16 32; do client run --url "$QURL" --set "quartz.nprobes=$p" --label "QuartzDB ivf_pq nprobes=$p refine=4"; done
qsql "DROP INDEX ann_pq"

qsql "CREATE INDEX ann_hnsw ON ann USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64); CREATE INDEX ON ann (tag)"
client run --url "$QURL" --filter --label "QuartzDB hnsw, 1 % filter (tag = \$2)"
client run --url "$QURL" --filter --set "quartz.exact_search_below=0" --label "QuartzDB hnsw, 1 % filter, prefilter only"
kill "$QPID"; wait "$QPID" 2>/dev/null || true; QPID=

# ---- PostgreSQL + pgvector ----
if [ -f "$("$PGBIN/pg_config" --sharedir)/extension/vector.control" ]; then
  echo
  mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
  su postgres -c "$PGBIN/initdb -D $WORK/pg -A trust -U postgres" >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nshared_buffers = 1GB\nmaintenance_work_mem = 1GB\n" "$PGPORT" "$WORK/pg" >> "$WORK/pg/postgresql.conf"
  su postgres -c "$PGBIN/pg_ctl -D $WORK/pg -l $WORK/pg/log -w start" >/dev/null
  PURL="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
  psql_pg() { psql -qAt -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$1"; }
  client load --url "$PURL"
  psql_pg "VACUUM ANALYZE ann" >/dev/null
  t0=$(date +%s.%N)
  psql_pg "CREATE INDEX ann_hnsw ON ann USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)" >/dev/null
  t1=$(date +%s.%N)
  echo "PostgreSQL $(psql_pg 'SHOW server_version') + pgvector $(psql_pg "SELECT extversion FROM pg_extension WHERE extname = 'vector'") hnsw (m 16, ef_construction 64): build $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, index $(psql_pg "SELECT pg_relation_size('ann_hnsw') / 1048576") MB"
  for ef in 10 20 40 80 160; do client run --url "$PURL" --set "hnsw.ef_search=$ef" --label "pgvector hnsw ef_search=$ef"; done
  psql_pg "CREATE INDEX ON ann (tag); ANALYZE ann" >/dev/null
  client run --url "$PURL" --filter --label "pgvector hnsw, 1 % filter (ef_search 40)"
  client run --url "$PURL" --filter --set "hnsw.iterative_scan=relaxed_order" --label "pgvector hnsw, 1 % filter, relaxed_order"
else
  echo
  echo "(pgvector is not installed for $("$PGBIN/pg_config" --version); PostgreSQL side skipped)"
fi
