#!/usr/bin/env bash
# Runs the service on a local PostgreSQL that this script starts itself and keeps between runs,
# migrated and seeded with a demo user and project, and prints a demo cookie with ready-to-paste
# curl and grpcurl lines. Works as root (the database then runs as the postgres user) and as a
# normal user. Stop with Ctrl-C; the database keeps running: scripts/run-local.sh --stop-db stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/postgres.sh

require_postgres_packages

if [ "$(id -u)" -eq 0 ]; then
  state_dir="${NEPTUN_STATE_DIR:-/var/lib/neptun-chat}"
  db_owner=postgres
else
  state_dir="${NEPTUN_STATE_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/neptun-chat}"
  db_owner=$(id -un)
fi
pg_port="${NEPTUN_PG_PORT:-55432}"
pgdata="$state_dir/pgdata"
bindir=$(pg_bindir)

as_db_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

new_secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

mkdir -p "$state_dir"
chmod 755 "$state_dir"

# One secret each for the database and the sessions, made once and kept beside the data.
if [ ! -s "$state_dir/db-password" ]; then
  (umask 077; new_secret > "$state_dir/db-password")
fi
db_password=$(cat "$state_dir/db-password")

if [ ! -s "$pgdata/PG_VERSION" ]; then
  echo "Creating a PostgreSQL cluster in $pgdata ..."
  mkdir -p "$pgdata"
  pwfile="$pgdata.pw"
  (umask 077; printf '%s\n' "$db_password" > "$pwfile")
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pgdata" "$pwfile"; fi
  as_db_owner "$bindir/initdb" -D "$pgdata" -U neptun --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
fi

if ! as_db_owner "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  echo "Starting PostgreSQL on 127.0.0.1:$pg_port ..."
  as_db_owner "$bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pgdata" start >/dev/null
fi

if [ "${1:-}" = "--stop-db" ]; then
  as_db_owner "$bindir/pg_ctl" -D "$pgdata" -w stop
  exit 0
fi

psql_neptun() { PGPASSWORD="$db_password" psql -X -q -h 127.0.0.1 -p "$pg_port" -U neptun -v ON_ERROR_STOP=1 -tA "$@"; }

if [ -z "$(psql_neptun -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'neptun'")" ]; then
  psql_neptun -d postgres -c "CREATE DATABASE neptun"
fi

if [ -z "${NUXT_SESSION_PASSWORD:-}" ]; then
  if [ ! -s "$state_dir/session-password" ]; then
    (umask 077; new_secret > "$state_dir/session-password")
  fi
  NUXT_SESSION_PASSWORD=$(cat "$state_dir/session-password")
fi
export NUXT_SESSION_PASSWORD
export DATABASE_CONNECTION_STRING="postgresql://neptun:${db_password}@127.0.0.1:${pg_port}/neptun"

echo "Building the service ..."
publish_dir="$PWD/.local/publish"
dotnet publish src/Neptun.Chat.Service --configuration Release --output "$publish_dir" --nologo -v quiet >/dev/null
# Run from the publish folder: it is the content root, where appsettings.json lives.
cd "$publish_dir"
service=(dotnet Neptun.Chat.Service.dll)

"${service[@]}" migrate >/dev/null

# The demo user and project, created once.
demo_email=demo@neptun.local
user_id=$(psql_neptun -d neptun -c "
  INSERT INTO neptun_user (primary_email) VALUES ('$demo_email') ON CONFLICT (primary_email) DO NOTHING;
  SELECT id FROM neptun_user WHERE primary_email = '$demo_email';")
project_id=$(psql_neptun -d neptun -c "
  INSERT INTO neptun_user_project (name, type, main_language, neptun_user_id)
  SELECT 'Demo project', 'web-app', 'typescript', $user_id
  WHERE NOT EXISTS (SELECT 1 FROM neptun_user_project WHERE neptun_user_id = $user_id AND name = 'Demo project');
  SELECT min(id) FROM neptun_user_project WHERE neptun_user_id = $user_id AND name = 'Demo project';")

cookie=$("${service[@]}" seal-session "$user_id" "$demo_email")

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export Kestrel__Endpoints__Rest__Url="${Kestrel__Endpoints__Rest__Url:-http://127.0.0.1:8080}"
export Kestrel__Endpoints__Grpc__Url="${Kestrel__Endpoints__Grpc__Url:-http://127.0.0.1:8081}"
export Kestrel__Endpoints__Operations__Url="${Kestrel__Endpoints__Operations__Url:-http://127.0.0.1:8082}"
rest="${Kestrel__Endpoints__Rest__Url/0.0.0.0/127.0.0.1}"
grpc="${Kestrel__Endpoints__Grpc__Url/0.0.0.0/127.0.0.1}"
grpc="${grpc#http://}"

cat <<INFO

Neptun chat service: REST on $rest, gRPC (h2c) on $grpc
Database: postgresql://neptun@127.0.0.1:$pg_port/neptun (data in $pgdata)
Demo user $user_id ($demo_email) owns project $project_id. Demo cookie:

  neptun-session=$cookie

Create a chat over REST:

  curl -i -X POST '$rest/api/users/$user_id/projects/$project_id/chats' -H 'Content-Type: application/json' -H 'Cookie: neptun-session=$cookie' -d '{"model": "google/gemma-2-27b-it", "name": "Project Discussion"}'

Create a chat over native gRPC (grpcurl finds the service by reflection):

  grpcurl -plaintext -H 'cookie: neptun-session=$cookie' -d '{"user_id": $user_id, "project_id": $project_id, "model": "google/gemma-2-27b-it", "name": "Project Discussion"}' $grpc neptun.chat.v1.ChatService/CreateProjectChat

INFO

exec "${service[@]}"
