#!/usr/bin/env bash
# Baseline over the wire, QuartzDB and PostgreSQL 15 side by side in one run:
#   1. ingest: multi-row INSERT (100 rows per statement), autocommit, 1 client
#   2. point select: SELECT by primary key on a 10,000-row table, prepared (extended protocol),
#      1 and 4 clients
# Both servers run on loopback with throwaway data directories and stop at the end.
#
#   benches/baseline.sh [seconds-per-test]      (default 15)
#
# Needs: PostgreSQL 15 server binaries (initdb, pg_ctl) and pgbench. Builds quartzdb --release.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-15}"
QPORT=55433
PPORT=55434
. benches/servers.sh
start_quartzdb "$QPORT"
start_postgres "$PPORT"

# Scripts for pgbench.
{
  printf '\\set r random(1, 1000000000)\n'
  printf 'INSERT INTO ingest (id, name, price) VALUES '
  for i in $(seq 100); do printf "(:r + $i, 'item number $i', $i.5)"; [ "$i" -lt 100 ] && printf ', '; done
  printf ';\n'
} > "$WORK/ingest.sql"
printf '\\set id random(1, 10000)\nSELECT id, name, price FROM points WHERE id = :id;\n' > "$WORK/point.sql"
printf '\\set r random(1, 1000000000)\nINSERT INTO single (id, name) VALUES (:r, '"'"'one row'"'"');\n' > "$WORK/single.sql"
printf 'SELECT count(*), sum(id) FROM single;\n' > "$WORK/scan.sql"

SETUP="CREATE TABLE ingest (id bigint, name text, price double precision);
CREATE TABLE single (id bigint, name text);
CREATE TABLE points (id bigint PRIMARY KEY, name text, price double precision);
INSERT INTO points SELECT value, 'point ' || value, value * 1.5 FROM generate_series(1, 10000) AS g(value);"
# PostgreSQL's generate_series column is named after the alias.
psql -q -h 127.0.0.1 -p "$QPORT" -U quartz -d quartz -c "$SETUP" >/dev/null
psql -q -h 127.0.0.1 -p "$PPORT" -U quartz -d quartz -c "$SETUP" >/dev/null

bench() { # name port script clients mode [transactions]
  local out limit=(-T "$SECS")
  [ -n "${6:-}" ] && limit=(-t "$6")
  out=$(pgbench -h 127.0.0.1 -p "$2" -U quartz -n -f "$WORK/$3" -c "$4" -j "$4" "${limit[@]}" -M "$5" quartz 2>&1) || { echo "$out" >&2; return 1; }
  local tps lat
  tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  printf '%-34s %12s %12s\n' "$1" "$tps" "$lat"
}

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $SECS s per test"
printf '%-34s %12s %12s\n' "test" "tps" "latency ms"
for server in quartzdb:$QPORT postgres:$PPORT; do
  name=${server%%:*}; port=${server##*:}
  bench "$name ingest (100 rows/stmt)" "$port" ingest.sql 1 simple
  bench "$name point select, 1 client" "$port" point.sql 1 prepared
  bench "$name point select, 4 clients" "$port" point.sql 4 prepared
  bench "$name 10,000 single-row INSERTs" "$port" single.sql 1 simple 10000
  bench "$name scan after them (count+sum)" "$port" scan.sql 1 simple 50
done
rows=$(psql -At -h 127.0.0.1 -p "$QPORT" -U quartz -d quartz -c 'SELECT count(*) FROM ingest')
echo "quartzdb ingested $rows rows; data directory $(du -sh "$WORK/quartz" | cut -f1)"
