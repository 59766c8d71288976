#!/usr/bin/env bash
# A private PostgreSQL cluster for local runs and tests: its own data directory and port, run as a
# non-root OS user, listening on 127.0.0.1 only, password authentication. Installs PostgreSQL from Debian
# if it is missing. Idempotent: "start" on a running cluster only prints its connection string.
#
#   cluster.sh start [--port 55432] [--dir DIR] [--database pipeline]   prints an Npgsql connection string
#   cluster.sh stop  [--port 55432] [--dir DIR]
#   cluster.sh status|url|psql-url [--port ...] [--dir ...]
# --no-install: fail instead of installing PostgreSQL when it is missing (tests install nothing: infra/setup.sh does).
set -euo pipefail

cmd=${1:-start}; shift || true
port=${PIPELINE_PG_PORT:-55432}
dir=""
database=pipeline
install=yes
while (($#)); do
  case $1 in
    --port) port=$2; shift 2;;
    --dir) dir=$2; shift 2;;
    --database) database=$2; shift 2;;
    --no-install) install=no; shift;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2;;
  esac
done
dir=${dir:-/var/lib/pipeline/postgres-$port}
here=$(cd "$(dirname "$0")" && pwd)

log() { printf '[postgres] %s\n' "$*" >&2; }

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [[ -z $d || ! -x $d/initdb || ! -x $d/pg_ctl ]]; then
    if [[ $install == no ]]; then
      echo "PostgreSQL is not installed: run infra/setup.sh (it installs the Debian package postgresql)" >&2
      exit 1
    fi
    "$here/../apt-install.sh" postgresql postgresql-client >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  echo "$d"
}

# The server refuses to run as root, so root runs it as the postgres OS user.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

password_file() { echo "$dir.password"; }

connection_string() {
  printf 'Host=127.0.0.1;Port=%s;Username=pipeline;Password=%s;Database=%s\n' "$port" "$(cat "$(password_file)")" "$database"
}

psql_url() {
  printf 'postgresql://pipeline:%s@127.0.0.1:%s/%s\n' "$(cat "$(password_file)")" "$port" "$database"
}

is_running() {
  [[ -f $dir/postmaster.pid ]] && as_owner "$(bindir)/pg_ctl" -D "$dir" status >/dev/null 2>&1
}

start() {
  local bin; bin=$(bindir)
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  if [[ ! -f $dir/PG_VERSION ]]; then
    log "initialising $dir"
    mkdir -p "$(dirname "$dir")"
    [[ -f $(password_file) ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$(password_file)")
    mkdir -p "$dir"
    local pwfile; pwfile=$(mktemp)
    cp "$(password_file)" "$pwfile"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir" "$pwfile"; fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir" -U pipeline --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >> "$dir/postgresql.conf" <<CONF
# private cluster for the telemetry pipeline (infra/postgres/cluster.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
max_wal_size = 2GB
logging_collector = off
CONF
  fi
  if ! is_running; then
    log "starting on 127.0.0.1:$port"
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
  if ! PGPASSWORD=$(cat "$(password_file)") psql -h 127.0.0.1 -p "$port" -U pipeline -d postgres -tAc \
      "select 1 from pg_database where datname = '$database'" | grep -q 1; then
    PGPASSWORD=$(cat "$(password_file)") psql -h 127.0.0.1 -p "$port" -U pipeline -d postgres -qc "create database \"$database\"" >/dev/null
  fi
  connection_string
}

stop() {
  if is_running; then
    as_owner "$(bindir)/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    log "stopped 127.0.0.1:$port"
  fi
}

case $cmd in
  start) start;;
  stop) stop;;
  status) if is_running; then echo running; else echo stopped; exit 3; fi;;
  url) connection_string;;
  psql-url) psql_url;;
  *) echo "usage: cluster.sh start|stop|status|url|psql-url [--port N] [--dir DIR] [--database NAME]" >&2; exit 2;;
esac
