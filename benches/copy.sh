#!/usr/bin/env bash
# COPY FROM STDIN ingest, QuartzDB and PostgreSQL 15 side by side in one run: the same file of
# narrow rows (bigint, text, double precision) loaded with psql's \copy, text and CSV formats,
# into an empty table each time; rows per second of wall-clock time (psql included).
#
#   benches/copy.sh [rows]        (default 1000000)
#
# Needs PostgreSQL 15 server binaries and psql. Builds quartzdb --release. Both servers run on
# loopback with throwaway data directories and stop at the end. NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
QPORT=55441
PPORT=55442
. benches/servers.sh
start_quartzdb "$QPORT"
start_postgres "$PPORT"

awk -v n="$ROWS" 'BEGIN { for (i = 1; i <= n; i++) printf "%d\titem number %d\t%d.5\n", i, i, i % 1000 }' > "$WORK/rows.txt"
awk -v n="$ROWS" 'BEGIN { print "id,name,price"; for (i = 1; i <= n; i++) printf "%d,\"item, number %d\",%d.5\n", i, i, i % 1000 }' > "$WORK/rows.csv"

load() { # port format-file copy-options
  psql -q -h 127.0.0.1 -p "$1" -U quartz -d quartz -c "DROP TABLE IF EXISTS ingest" -c "CREATE TABLE ingest (id bigint, name text, price double precision)" >/dev/null 2>&1
  local start end
  start=$(date +%s.%N)
  psql -q -h 127.0.0.1 -p "$1" -U quartz -d quartz -c "\\copy ingest from '$2' $3" >/dev/null
  end=$(date +%s.%N)
  local n
  n=$(psql -At -h 127.0.0.1 -p "$1" -U quartz -d quartz -c "SELECT count(*) FROM ingest")
  [ "$n" = "$ROWS" ] || { echo "loaded $n rows, expected $ROWS" >&2; exit 1; }
  awk -v s="$start" -v e="$end" -v n="$ROWS" 'BEGIN { printf "%12.0f %10.2f\n", n / (e - s), e - s }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); $ROWS rows"
printf '%-28s %12s %10s\n' "test" "rows/s" "seconds"
for server in quartzdb:$QPORT postgres:$PPORT; do
  name=${server%%:*}; port=${server##*:}
  printf '%-28s %s\n' "$name COPY text" "$(load "$port" "$WORK/rows.txt" "")"
  printf '%-28s %s\n' "$name COPY csv header" "$(load "$port" "$WORK/rows.csv" "with (format csv, header)")"
done
echo "quartzdb peak memory: $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$QPID/status")"
