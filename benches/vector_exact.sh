#!/usr/bin/env bash
# Exact nearest-neighbour search over the wire: `SELECT id FROM t ORDER BY embedding <-> q LIMIT 10`
# on N random vectors of 128 and 768 dimensions, one client, reported as vectors scanned per
# second (queries/s × N), next to this machine's memory-bandwidth limit for the same scan (a
# numpy matrix-vector product over the same data held in RAM, when python3 with numpy is there).
#
#   benches/vector_exact.sh [seconds-per-test] [rows-at-128] [rows-at-768]   (default 15 100000 30000)
#
# Needs psql and pgbench. Builds quartzdb --release. The server runs on loopback with a throwaway
# data directory and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-15}"
N128="${2:-100000}"
N768="${3:-30000}"
QPORT=55435
. benches/servers.sh
start_quartzdb "$QPORT"
q() { psql -qAt -h 127.0.0.1 -p "$QPORT" -U quartz -d quartz -c "$1"; }

# Random vectors, made by the server (ARRAY[random(), …] per row), loaded in chunks.
load() { # dims rows
  local dims=$1 rows=$2 chunk=10000 arr
  arr="ARRAY[$(for _ in $(seq "$dims"); do printf 'random(),'; done | sed 's/,$//')]"
  q "CREATE TABLE v$dims (id bigint, embedding vector($dims))"
  for start in $(seq 1 "$chunk" "$rows"); do
    local end=$((start + chunk - 1)); [ "$end" -gt "$rows" ] && end=$rows
    q "INSERT INTO v$dims SELECT value, $arr::vector($dims) FROM generate_series($start, $end) AS g(value)"
  done
}

query_vector() { # dims
  awk -v d="$1" 'BEGIN { srand(7); printf "["; for (i = 1; i <= d; i++) printf "%s%.4f", (i > 1 ? "," : ""), rand(); printf "]" }'
}

bench() { # dims rows op
  local dims=$1 rows=$2 op=$3 out tps
  printf "SELECT id FROM v%s ORDER BY embedding %s '%s' LIMIT 10;\n" "$dims" "$op" "$(query_vector "$dims")" > "$WORK/q.sql"
  out=$(pgbench -h 127.0.0.1 -p "$QPORT" -U quartz -n -f "$WORK/q.sql" -c 1 -j 1 -T "$SECS" quartz 2>&1) || { echo "$out" >&2; return 1; }
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  awk -v t="$tps" -v n="$rows" -v d="$dims" -v op="$op" 'BEGIN { printf "%-6s %-4s %9d rows %10.2f queries/s %8.2f ms %8.2fM vectors/s\n", d, op, n, t, 1000 / t, t * n / 1e6 }'
}

bandwidth() { # dims rows: numpy's scan of the same amount of float32 data, in vectors/s
  local py
  py=$(command -v python3 || true)
  [ -x "$HOME/.cache/quartzdb/python-clients/bin/python" ] && py="$HOME/.cache/quartzdb/python-clients/bin/python"
  [ -n "$py" ] && "$py" - "$1" "$2" "${3:-all}" <<'PY' 2>/dev/null || echo "(numpy not available)"
import sys, time
import numpy as np
d, n = int(sys.argv[1]), int(sys.argv[2])
m = np.random.rand(n, d).astype(np.float32)
q = np.random.rand(d).astype(np.float32)
best = 1e9
for _ in range(20):
    t = time.perf_counter(); (m @ q).argpartition(10)[:10]; best = min(best, time.perf_counter() - t)
print(f"{d:<6} numpy matrix-vector product + top-10 over the same {n} vectors in RAM, {sys.argv[3]} threads: {n / best / 1e6:.1f}M vectors/s ({m.nbytes / best / 1e9:.1f} GB/s)")
PY
}

echo "loading $N128 × 128 and $N768 × 768 random vectors…" >&2
t0=$(date +%s); load 128 "$N128"; load 768 "$N768"; t1=$(date +%s)
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $SECS s per test; load took $((t1 - t0)) s"
for op in '<->' '<=>' '<#>'; do bench 128 "$N128" "$op"; done
for op in '<->' '<=>'; do bench 768 "$N768" "$op"; done
bandwidth 128 "$N128"
bandwidth 768 "$N768"
# The same on one core (QuartzDB scans one query's partitions on all cores).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
bandwidth 128 "$N128" 1
bandwidth 768 "$N768" 1
