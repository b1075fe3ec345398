#!/usr/bin/env bash
# The load benchmark: REST (wrk) and native gRPC (h2load) against the service, measured against
# its two limits in the same run, against one throwaway PostgreSQL with fsync on:
# - the database's: pgbench running the job's minimal statement (the project's owner checked, the
#   chat and its link inserted, the chat returned: the web app's handler in one statement), the
#   denominator of every "x job" ratio; and, as a second row, pgbench running the service's own
#   statement ("pgbench, service statement"), which does more than the job needs;
# - the framework's: the "floor" service (bench/Neptun.Chat.Floor), the same proto on the same
#   framework doing nothing (a Cookie header present, a fixed chat; no logging, no database, no
#   middleware), the denominator of every "x floor" ratio of the service's CPU per request; and, with
#   "floor-paced" in BENCH_BATCHING, the same floor at about the service's own rate ("x paced floor").
# The service runs twice, side by side: with group commit (the default) and without
# (Database__MaxBatchSize=1), so that every round compares both in the same run. The database
# starts with a production-sized, analysed history (1,000 users x 5 projects, 200,000 chats). Not
# part of scripts/test.sh: it runs for many minutes.
#
# Fair to every surface: each gets the same warm-up at start and before each round, and each
# measured round starts settled (CHECKPOINT, then a pause). The rounds run in passes of alternating
# order (pgbench, REST, gRPC, ..., then ..., gRPC, REST, pgbench) and the table reports the median
# over the passes; the ratios are taken within each pass. Each pgbench statement's PostgreSQL CPU
# per transaction is printed for every pass; a spread over 10 % between passes marks the run UNFAIR
# (exit code 3). Also printed: each service's time from exec to ready and to its first 201, and its
# RSS at start, under load and at its peak.
#
#   bench/run.sh            16, 64 and 256 connections (it prints how long at start)
#   bench/run.sh --all      also 1 and 4 connections, then 16 and 64 again with 1,000,000
#                           chats already stored
#   bench/run.sh --soak     REST at 16 connections for 5 minutes, printing the service's RSS
#   bench/run.sh --profile  REST then gRPC at 16 connections while `perf` samples the service,
#                           printing the hottest .NET and native frames of each (where the time goes)
#
# Environment: BENCH_CONNECTIONS (e.g. "16"), BENCH_SECONDS (20), BENCH_WARMUP_SECONDS (5, before
# each round), BENCH_START_WARMUP_SECONDS (20, every surface once at start), BENCH_PASSES (3),
# BENCH_SETTLE_SECONDS (1, the pause after each round's CHECKPOINT),
# BENCH_BATCHING ("on off floor": which services run; --soak and --profile use the first; "floor"
# is the framework's floor above, without which no "x floor" ratio is printed; "floor-paced" is the
# same floor process loaded at about the service's own rate, BENCH_FLOOR_PACED_RPS ("16=8000
# 64=13500", connections=requests/s; 8000 at other counts): a kernel wake-up then serves one request
# or a few, as the service's do, not the batches of a floor loaded as fast as it answers; "on-unlogged" is
# batching on with RequestLog__SuccessSampleRate=0, for an A/B of the log line;
# "baseline" is batching on in the build of BENCH_BASELINE, a commit: an A/B of a code
# change in one run, e.g. BENCH_BASELINE=HEAD with the change uncommitted, or BENCH_BASELINE=main;
# BENCH_BASELINE_ENV, space-separated NAME=VALUE settings, is given to the baseline alone, so that
# BENCH_BASELINE=HEAD BENCH_BASELINE_ENV="Database__MaxBatchWriters=2" compares one setting;
# BENCH_ON_ENV does the same for the service with batching on alone, e.g. a Redis for it but not
# for on-unlogged),
# BENCH_HISTORY_CHATS (200000), BENCH_REST_PORT (24080), BENCH_GRPC_PORT (24081),
# BENCH_OPERATIONS_PORT (24090; the service without batching listens on these plus 2, on-unlogged
# plus 4, baseline plus 6, the floor plus 8).
set -Eeuo pipefail
# A failed step must say where: several run in command substitutions, which set -e ends silently.
trap 'echo "bench: failed at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
. scripts/lib/postgres.sh

mode=${1:-default}
case "$mode" in default | --all | --soak | --profile) ;; *) echo "usage: bench/run.sh [--all | --soak | --profile]" >&2; exit 2 ;; esac

require_postgres_packages
require_debian_command wrk wrk
require_debian_command h2load nghttp2-client
[ "$mode" != --profile ] || require_debian_command perf linux-perf

if [ -z "${NEPTUN_BENCH_CLUSTER:-}" ]; then
  # A throwaway cluster in a temporary directory (-t: as root too, so it never meets another run's
  # "regress" cluster), as in production: fsync on (pg_virtualenv turns it off unless told), and
  # room for pgbench's 256 clients beside the service's pool.
  exec env NEPTUN_BENCH_CLUSTER=1 PGPORT="$(free_local_port)" pg_virtualenv -t -o fsync=on -o max_connections=400 "$0" "$@"
fi

. bench/lib/service-sql.sh
. bench/lib/measure.sh

seconds=${BENCH_SECONDS:-20}
floor_paced_rps=${BENCH_FLOOR_PACED_RPS:-"16=8000 64=13500"}
warmup=${BENCH_WARMUP_SECONDS:-5}
start_warmup=${BENCH_START_WARMUP_SECONDS:-20}
passes=${BENCH_PASSES:-3}
settle_seconds=${BENCH_SETTLE_SECONDS:-1}
batching_modes=${BENCH_BATCHING:-"on off floor"}
history_chats=${BENCH_HISTORY_CHATS:-200000}
for batching in $batching_modes; do
  case "$batching" in on | off | on-unlogged | floor) ;;
    floor-paced) [[ " $batching_modes " == *" floor "* ]] || { echo "bench: floor-paced needs floor in BENCH_BATCHING" >&2; exit 2; } ;;
    baseline) [ -n "${BENCH_BASELINE:-}" ] || { echo "bench: baseline needs BENCH_BASELINE (a commit)" >&2; exit 2; } ;;
    *) echo "bench: BENCH_BATCHING takes on, off, on-unlogged, baseline, floor and floor-paced" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
declare -A service_pids=()
service_pid="" service_name="" rest_port="" grpc_port=""
cleanup() {
  local pid
  for pid in "${service_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export PGHOST=127.0.0.1 PGDATABASE=neptun_bench
createdb neptun_bench
export DATABASE_CONNECTION_STRING="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$PGDATABASE"
NUXT_SESSION_PASSWORD=$(head -c 36 /dev/urandom | base64)
export NUXT_SESSION_PASSWORD

echo "Building the service (Release) and the benchmark tools..." >&2
dotnet publish src/Neptun.Chat.Service -c Release -o "$work/service" --nologo -v quiet >/dev/null
dotnet build bench/Neptun.Chat.Benchmarks -c Release -o "$work/tools" --nologo -v quiet >/dev/null
if [[ " $batching_modes " == *" floor "* ]]; then
  dotnet publish bench/Neptun.Chat.Floor -c Release -o "$work/floor" --nologo -v quiet >/dev/null
fi
if [[ " $batching_modes " == *" baseline "* ]]; then
  baseline_commit=$(git rev-parse --verify "${BENCH_BASELINE}^{commit}")
  echo "Building the baseline, ${baseline_commit:0:12} (Release)..." >&2
  mkdir "$work/baseline-src"
  git archive "$baseline_commit" | tar -x -C "$work/baseline-src"
  dotnet publish "$work/baseline-src/src/Neptun.Chat.Service" -c Release -o "$work/baseline" --nologo -v quiet >/dev/null
fi
tools() { dotnet "$work/tools/Neptun.Chat.Benchmarks.dll" "$@"; }

dotnet "$work/service/Neptun.Chat.Service.dll" migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 -f bench/seed.sql >/dev/null
echo "Growing the history to $history_chats chats and analysing it..." >&2
psql -q -v ON_ERROR_STOP=1 -v target="$history_chats" -f bench/grow.sql >/dev/null
# Every round starts from this history (settle): what rounds add is deleted again.
last_history_chat=$(psql -Atc "SELECT max(id) FROM public.chat_conversation")
# The size every round of a connection count starts from, e.g. 200k.
history_label() { echo "$(( $(psql -Atc "SELECT count(*) FROM public.chat_conversation WHERE id <= $last_history_chat") / 1000 ))k"; }
# The checkpointer lives as long as the server, and its parent is the postmaster (field 4 of /proc/PID/stat).
postmaster_pid=$(awk '{ sub(/^.*\) /, ""); print $2 }' \
  "/proc/$(psql -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")/stat" 2>/dev/null) \
  || { echo "bench: cannot read PostgreSQL's processes from /proc (is it on this machine?)" >&2; exit 1; }
tools seal-cookies 1000 "$work/cookies"
export BENCH_COOKIES="$work/cookies"
write_job_pgbench_script "$work/pgbench-job.sql"
write_pgbench_script src/Neptun.Chat.Service/Database/ChatRepository.cs "$work/pgbench-statement.sql"

# Makes one of the services (batching on or off, on without success log lines, the baseline, the
# floor) the one the load functions measure.
use_service() { # on|off|on-unlogged|baseline|floor
  service_pid=${service_pids[$1]:-}
  service_name=$1
  local offset
  case "$1" in on) offset=0 ;; off) offset=2 ;; on-unlogged) offset=4 ;; baseline) offset=6 ;; floor | floor-paced) offset=8 ;; esac
  rest_port=$(( ${BENCH_REST_PORT:-24080} + offset ))
  grpc_port=$(( ${BENCH_GRPC_PORT:-24081} + offset ))
  operations_port=$(( ${BENCH_OPERATIONS_PORT:-24090} + offset ))
}

# From its own folder, as deployed, so that it reads its appsettings.json (endpoint protocols, log
# levels), with the runtime settings its image sets (the Dockerfile's ENV DOTNET_... lines).
# The per-user rate limit (60 creates a minute by default) would turn most of the load into 429s:
# it is lifted here, since the benchmark measures what a create costs, not the limiter.
# Also records the time from exec to ready and to the first 201, and the RSS then.
services_file="$work/services.tsv"
start_service() { # on|off|on-unlogged|baseline|floor|floor-paced
  use_service "$1"
  # The floor's own process, loaded at BENCH_FLOOR_PACED_RPS (measure.sh) rather than as fast as it answers.
  if [ "$1" = floor-paced ]; then
    service_pids[floor-paced]=${service_pids[floor]}
    return
  fi
  local started ready created image_env folder=service program=Neptun.Chat.Service.dll
  case "$1" in baseline) folder=baseline ;; floor) folder=floor program=Neptun.Chat.Floor.dll ;; esac
  # Another run on this machine would answer the readiness probe and the load in its place.
  if curl -s -o /dev/null "http://127.0.0.1:$operations_port/"; then
    echo "bench: port $operations_port is taken (another bench/run.sh?); choose others with BENCH_REST_PORT, BENCH_GRPC_PORT and BENCH_OPERATIONS_PORT" >&2
    exit 1
  fi
  # The runtime settings the image gives (its Dockerfile's DOTNET_ variables): the baseline's own,
  # every other process (the floor too) this tree's.
  image_env=$(sed -n 's/^ENV \(DOTNET_[A-Za-z0-9_]*=[^ ]*\)$/\1/p' "$([ "$1" = baseline ] && echo "$work/baseline-src" || echo .)/Dockerfile")
  started=$(now_ms)
  (cd "$work/$folder" \
    && if [ -n "$image_env" ]; then export ${image_env?}; fi \
    && if [ "$1" = on-unlogged ]; then export RequestLog__SuccessSampleRate=0; fi \
    && if [ "$1" = baseline ] && [ -n "${BENCH_BASELINE_ENV:-}" ]; then export ${BENCH_BASELINE_ENV?}; fi \
    && if [ "$1" = on ] && [ -n "${BENCH_ON_ENV:-}" ]; then export ${BENCH_ON_ENV?}; fi \
    && RateLimiting__PermitLimit=1000000000 \
       Database__MaxBatchSize="$([ "$1" = off ] && echo 1 || echo "${Database__MaxBatchSize:-64}")" \
       DOTNET_PerfMapEnabled="$([ "$mode" = --profile ] && echo 1 || echo 0)" \
       DOTNET_EnableWriteXorExecute="$([ "$mode" = --profile ] && echo 0 || echo 1)" \
       Kestrel__Endpoints__Rest__Url="http://127.0.0.1:$rest_port" \
       Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:$grpc_port" \
       Kestrel__Endpoints__Operations__Url="http://127.0.0.1:$operations_port" \
       exec dotnet "$program") >"$work/service-$1.log" 2>&1 &
  service_pids[$1]=$!
  service_pid=$!
  wait_until_ready "http://127.0.0.1:$operations_port/healthz/ready"
  ready=$(now_ms)
  first_create
  created=$(now_ms)
  # The floor writes nothing, so its gRPC errors cannot be counted from the chats stored: its
  # answer is checked once here instead.
  [ "$1" != floor ] || first_grpc_call_ok
  printf '%s\t%s\t%s\t%s\n' "$1" "$(( ready - started ))" "$(( created - started ))" "$(service_rss_mb)" >>"$services_file"
}

# Every surface once at start, pgbench as long as each service's (pools, prepared statements, and
# the JIT: tiered compilation keeps recompiling hot methods for tens of seconds after start, and
# with a 5 s warm-up bench/run.sh --profile found 9-16 % of the first round's service CPU in the
# JIT), before any round counts.
case "$mode" in --soak | --profile) ;; *) for statement in job statement; do run_pgbench 16 "$start_warmup" "$statement" >/dev/null; done ;; esac
for batching in $batching_modes; do
  start_service "$batching"
  run_rest 16 "$start_warmup" >/dev/null
  run_grpc 16 "$start_warmup" >/dev/null
done
use_service "${batching_modes%% *}"
# The warm-ups wrote far more than a round does: the first round's reset would otherwise start
# from a table with that much more free space than any later round's.
settle

print_services() {
  echo "| service | exec to ready s | exec to first 201 s | RSS at start MB | peak RSS MB |"
  echo "|---|---:|---:|---:|---:|"
  local batching ready created rss
  while IFS=$'\t' read -r batching ready created rss; do
    use_service "$batching"
    printf '| %s | %.2f | %.2f | %s | %s |\n' "$batching" "$(awk -v ms="$ready" 'BEGIN { print ms / 1000 }')" \
      "$(awk -v ms="$created" 'BEGIN { print ms / 1000 }')" "$rss" "$(service_peak_rss_mb)"
  done <"$services_file"
}

if [ "$mode" = --soak ]; then
  soak_rest 16 300
  exit 0
fi

if [ "$mode" = --profile ]; then
  profile_surface REST run_rest 16 "$seconds"
  profile_surface gRPC run_grpc 16 "$seconds"
  exit 0
fi

results="$work/results.tsv"
# The surfaces of one pass in the forward order; every other pass runs them backwards.
surfaces=(pgbench:job pgbench:statement)
for batching in $batching_modes; do surfaces+=("REST:$batching" "gRPC:$batching"); done

# One measured round of one surface: its warm-up, the settle, then the round.
measure() { # SURFACE BATCHING CONNECTIONS DATA-LABEL PASS
  local run
  case "$1" in pgbench) run=run_pgbench ;; REST) run=run_rest ;; gRPC) run=run_grpc ;; esac
  # pgbench's second argument is its statement, job or statement; the others' is the service.
  [ "$1" = pgbench ] || use_service "$2"
  "$run" "$3" "$warmup" "$2" >/dev/null
  settle
  record "$results" "$1" "$2" "$3" "$4" "$5" "$("$run" "$3" "$seconds" "$2")"
}

# Every surface at one connection count, PASSES times, in alternating order.
round() { # CONNECTIONS DATA-LABEL
  local pass i order
  for pass in $(seq 1 "$passes"); do
    order=("${surfaces[@]}")
    if [ $(( pass % 2 )) -eq 0 ]; then
      order=()
      for (( i = ${#surfaces[@]} - 1; i >= 0; i-- )); do order+=("${surfaces[i]}"); done
    fi
    for i in "${order[@]}"; do measure "${i%%:*}" "${i#*:}" "$1" "$2" "$pass"; done
  done
}

if [ "$mode" = --all ]; then
  connections=${BENCH_CONNECTIONS:-"1 4 16 64 256"}
else
  connections=${BENCH_CONNECTIONS:-"16 64 256"}
fi
rounds=$(( $(wc -w <<<"$connections") * passes * ${#surfaces[@]} ))
[ "$mode" != --all ] || rounds=$(( rounds + 2 * passes * ${#surfaces[@]} ))
echo "Measuring $rounds rounds (${#surfaces[@]} surfaces x $passes passes per connection count), each $warmup s of warm-up," \
  "the database taken back to its history (bench/reset.sql) and ${settle_seconds} s of settling, $seconds s measured and 1 s to read PostgreSQL's CPU:" \
  "about $(( (rounds * (warmup + settle_seconds + seconds + 3) + 59) / 60 )) min in all" >&2
chat_ids_drawn() { psql -Atc "SELECT last_value FROM public.chat_conversation_id_seq"; }
start_chat_id=$(chat_ids_drawn)
for c in $connections; do
  round "$c" "$(history_label)"
done

if [ "$mode" = --all ]; then
  echo "Growing the database to 1,000,000 chats..." >&2
  psql -q -v ON_ERROR_STOP=1 -v target=1000000 -f bench/grow.sql >/dev/null
  last_history_chat=$(psql -Atc "SELECT max(id) FROM public.chat_conversation")
  for c in 16 64; do
    round "$c" "$(history_label)"
  done
fi

echo "Every round, in the order run:"
echo
print_rounds "$results"
echo
echo "The median over the $passes passes:"
echo
print_medians "$results"
echo
print_services
echo
fair=0
check_pgbench_drift "$results" || fair=$?
echo "Chats created in the rounds and their warm-ups (deleted again after each): $(( $(chat_ids_drawn) - start_chat_id ))" \
  "(plus any grown); $(nproc) CPUs, $(uname -m), PostgreSQL $(psql -Atc 'SHOW server_version'), fsync=$(psql -Atc 'SHOW fsync')"
if [ "$fair" -ne 0 ]; then
  echo "UNFAIR RUN: pgbench's PostgreSQL CPU per transaction moved over 10 % between passes (above);" \
    "the database was not in the same state for every round. Measure again on a quiet machine." >&2
  exit 3
fi
