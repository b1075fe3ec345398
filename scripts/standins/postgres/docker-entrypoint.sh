#!/bin/sh
# What docker-compose.yml relies on of the official image's start: an empty data directory gets a
# cluster with the superuser POSTGRES_USER (password POSTGRES_PASSWORD, required) and the database
# POSTGRES_DB; clients over TCP must give the password (scram-sha-256), local ones are trusted; the
# server listens on every address, as the postgres user. A data directory that has a cluster is
# used as it is. Not followed: /docker-entrypoint-initdb.d, POSTGRES_INITDB_ARGS and the other
# variables of the official image; the stand-in refuses rather than ignores initialisation scripts.
set -eu

case ${1:-} in -*) set -- postgres "$@" ;; esac
if [ "${1:-}" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  # A new named volume belongs to root; the server refuses a data directory it does not own.
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?is required: the official image refuses to start without it too}"
  if [ -n "$(ls -A /docker-entrypoint-initdb.d 2>/dev/null)" ]; then
    echo "postgres stand-in: /docker-entrypoint-initdb.d is not supported" >&2
    exit 1
  fi
  superuser=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$superuser}
  printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$superuser" --pwfile=/dev/stdin -D "$PGDATA"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
  if [ "$database" != postgres ]; then
    # Single-user mode creates it without a server that clients could reach half-made.
    quoted=$(printf '%s' "$database" | sed 's/"/""/g')
    echo "CREATE DATABASE \"$quoted\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres stand-in: cluster initialised with database \"$database\""
fi

exec "$@"
