# Sourced by the bench scripts: a throwaway QuartzDB (release build) and PostgreSQL 15 on
# loopback, in a temporary directory, both stopped and removed when the script exits.
# NO_BUILD=1 uses the QuartzDB binary as built; PGBIN points at PostgreSQL's binaries.
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quartzdb/target}"
WORK="$(mktemp -d)"

# PostgreSQL refuses to run as root: use the postgres user when we are root.
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$(printf '%q ' "$@")"; else "$@"; fi; }

cleanup() {
  [ -n "${QPID:-}" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
  if [ -f "$WORK/pg/postmaster.pid" ]; then run_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_quartzdb() { # port
  [ -n "${NO_BUILD:-}" ] || cargo build --release --bin quartzdb >&2
  "$CARGO_TARGET_DIR/release/quartzdb" --data-dir "$WORK/quartz" --listen "127.0.0.1:$1" --log warn &
  QPID=$!
  for _ in $(seq 100); do psql -h 127.0.0.1 -p "$1" -U quartz -d quartz -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
}

start_postgres() { # port: a fresh cluster with role and database quartz
  chmod 777 "$WORK"
  run_pg "$PGBIN/initdb" -D "$WORK/pg" -A trust -U quartz >/dev/null
  run_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -o "-p $1 -k $WORK -c listen_addresses=127.0.0.1" -l "$WORK/pg.log" -w start >/dev/null
  run_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$1" -U quartz quartz
}
