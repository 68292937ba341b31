#!/usr/bin/env bash
# Provide a local PostgreSQL for the server test suite (Debian 12, run as root).
#
# Installs Debian's `postgresql` package when it is missing, makes sure a
# cluster listens on 127.0.0.1 and is running, creates a login role that may
# create databases (each server test file makes and drops its own database)
# and one database, then prints the connection URL. Safe to run again: every
# step checks before it acts.
#
#   eval "$(scripts/ci-postgres.sh)"        # exports DATABASE_URL
#   url="$(scripts/ci-postgres.sh --url)"   # the bare URL
#
# Settings (environment): POSTSCALE_PG_CLUSTER (default main),
# POSTSCALE_PG_USER / POSTSCALE_PG_PASSWORD / POSTSCALE_PG_DATABASE
# (default postscale). Progress goes to stderr, the result to stdout.
set -euo pipefail

cluster="${POSTSCALE_PG_CLUSTER:-main}"
role="${POSTSCALE_PG_USER:-postscale}"
password="${POSTSCALE_PG_PASSWORD:-postscale}"
database="${POSTSCALE_PG_DATABASE:-postscale}"
output="export"
if [[ "${1:-}" == "--url" ]]; then output="url"; fi

log() { echo "ci-postgres: $*" >&2; }

# Root is needed for apt-get and pg_ctlcluster; fall back to sudo when not root.
as_root() {
  if [[ "$(id -u)" == "0" ]]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

latest_version() {
  ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1
}

if [[ -z "$(latest_version)" ]] || ! command -v pg_ctlcluster >/dev/null; then
  log "installing Debian's postgresql package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version="$(latest_version)"
if [[ -z "$version" ]]; then
  log "no PostgreSQL server found under /usr/lib/postgresql after installing"
  exit 1
fi

if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
  log "creating cluster $version/$cluster"
  as_root pg_createcluster "$version" "$cluster" >&2
fi

# Tests connect over TCP with a password; keep the server off other interfaces.
# A conf.d file (included by Debian's postgresql.conf) leaves the main file untouched.
conf_dir="/etc/postgresql/$version/$cluster/conf.d"
as_root mkdir -p "$conf_dir"
echo "listen_addresses = '127.0.0.1'" | as_root tee "$conf_dir/postscale.conf" >/dev/null
port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')"

status="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')"
if [[ "$status" != online* ]]; then
  log "starting cluster $version/$cluster on 127.0.0.1:$port"
  as_root pg_ctlcluster "$version" "$cluster" start >&2
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
  sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  log "PostgreSQL $version/$cluster did not accept connections on 127.0.0.1:$port within 30s"
  exit 1
fi

psql_admin() { as_postgres psql -v ON_ERROR_STOP=1 -q -X -p "$port" "$@"; }

# psql variables (:'name') quote the values, so the settings cannot inject SQL.
psql_admin -d postgres -v role="$role" -v password="$password" <<'SQL' >&2
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L', :'role', :'password') \gexec
-- Tests drop their databases WITH (FORCE), which must also stop an
-- autovacuum worker that happens to be on them.
SELECT format('GRANT pg_signal_backend TO %I', :'role')
WHERE NOT pg_has_role(:'role', 'pg_signal_backend', 'MEMBER') \gexec
SQL
psql_admin -d postgres -v role="$role" -v database="$database" <<'SQL' >&2
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec
SQL

url="postgres://${role}:${password}@127.0.0.1:${port}/${database}"
log "ready: PostgreSQL $version on 127.0.0.1:$port, database $database"
if [[ "$output" == "url" ]]; then
  echo "$url"
else
  echo "export DATABASE_URL='$url'"
fi
