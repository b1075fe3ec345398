#!/usr/bin/env bash
# Prints what prepared statements are worth for the create statement, and what PgBouncer in
# transaction mode costs: pgbench (Debian's, bounded to a few seconds per case) directly against a
# throwaway PostgreSQL and through pgbouncer on loopback, in the simple, extended (unprepared, what
# Npgsql does by default) and prepared protocols. Usage: bench/pooler/run.sh [SECONDS] [PGBOUNCER_PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/postgres.sh
. bench/lib/service-sql.sh
require_postgres_packages
require_debian_command pgbouncer pgbouncer

if [ -z "${NEPTUN_BENCH_CLUSTER:-}" ]; then
  exec env NEPTUN_BENCH_CLUSTER=1 PGPORT="$(free_local_port)" pg_virtualenv -t "$0" "$@"
fi

seconds=${1:-5}
bouncer_port=${2:-25900}
clients=4
pgbench="$(pg_bindir)/pgbench"
work=$(mktemp -d)
chmod 755 "$work"
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

createdb neptun_bench
psql -q -d neptun_bench -c "CREATE SCHEMA neptun_chat_service"
for migration in src/Neptun.Chat.Service/Database/Migrations/*.sql; do
  psql -q -d neptun_bench -f "$migration"
done
# The service's own statement, for user 1's project 1.
write_pgbench_script src/Neptun.Chat.Service/Database/ChatRepository.cs "$work/create-project-chat.sql" 1 1
psql -q -d neptun_bench -c "INSERT INTO neptun_user (id, primary_email) VALUES (1, 'bench@example.com');
  INSERT INTO neptun_user_project (id, name, type, main_language, neptun_user_id) VALUES (1, 'Bench', 'web-app', 'typescript', 1);"

printf '"%s" "%s"\n' "$PGUSER" "$PGPASSWORD" > "$work/userlist.txt"
cat > "$work/pgbouncer.ini" <<INI
[databases]
* = host=${PGHOST} port=${PGPORT}
[pgbouncer]
pool_mode = transaction
listen_addr = 127.0.0.1
listen_port = ${bouncer_port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${work}/userlist.txt
pidfile = ${work}/pid
logfile = ${work}/pgbouncer.log
# Fewer server connections than clients, as behind a real pooler: statements prepared on one
# server connection are then missing on another.
default_pool_size = $((clients / 2))
INI
chmod 644 "$work"/*
user_flag=()
if [ "$(id -u)" -eq 0 ]; then
  # pgbouncer refuses to run as root; as postgres it writes its pid and log here.
  user_flag=(--user=postgres)
  chown -R postgres "$work"
fi
"$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d "${user_flag[@]}" "$work/pgbouncer.ini"
sleep 1

run() { # label host port mode
  local out
  out=$("$pgbench" -n -h "$2" -p "$3" -c "$clients" -T "$seconds" -M "$4" -f "$work/create-project-chat.sql" neptun_bench 2>&1) || true
  # A client that hits an error is aborted; pgbench still reports the others' rate.
  if ! grep -qiE 'error|aborted' <<<"$out"; then
    printf '%-28s %-9s %10s tps  %8s ms average latency\n' "$1" "$4" \
      "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")" "$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")"
  else
    printf '%-28s %-9s fails: %s\n' "$1" "$4" "$(grep -m1 -iE 'error|aborted' <<<"$out")"
  fi
}

echo "create statement, $clients clients, ${seconds}s per case"
for mode in simple extended prepared; do
  run "PostgreSQL directly" "$PGHOST" "$PGPORT" "$mode"
  run "through pgbouncer (tx mode)" 127.0.0.1 "$bouncer_port" "$mode"
done
