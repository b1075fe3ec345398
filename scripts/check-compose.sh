#!/usr/bin/env bash
# Brings docker-compose.yml up with podman-compose (Debian's), with the service image that
# scripts/check-image.sh built, and checks it as a user would meet it: PostgreSQL, the migration,
# two replicas, nginx, Redis and Prometheus start; a chat is created over REST and over native gRPC
# through nginx; both replicas serve (each one's own metrics say so); the rate limit is one for
# both (limit L: of calls spread over the two, exactly L succeed, the rest are refused with the
# pushback);
# Prometheus scrapes both, every recording rule and dashboard query has data, and no alert fires;
# then `podman-compose down -v` leaves nothing behind. postgres, nginx, redis and prometheus are
# stand-ins where the official images cannot be pulled (scripts/lib/service-standins.sh;
# docs/container.md says what that proves). Skips (exit code 77) where it cannot run, with what to
# do; on CI (CI=true) that fails. Run alone (as root) after the image check: scripts/check-compose.sh.
# errtrace (-E): a failure inside a function, too, ends in fail() with the tools' last words.
set -eEuo pipefail
cd "$(dirname "$0")/.."
readonly check_name=check-compose
. scripts/lib/container-checks.sh
. scripts/lib/service-standins.sh

readonly image=${NEPTUN_CHAT_IMAGE:-localhost/neptun-chat:image-check}
# Low, so that a handful of calls crosses it; the window outlasts the check many times over.
readonly limit=5 window_seconds=600 limit_calls=24
log=
trap 'fail "at line $LINENO"' ERR

# Containers find each other by name through podman's DNS server for its networks: aardvark-dns
# with netavark (what Debian 12's podman uses unless it was set up with CNI, which would want the
# dnsname plugin instead).
for helper in netavark aardvark-dns; do
  [ -x "/usr/lib/podman/$helper" ] || missing_packages+=("$helper")
done
# promtool (Debian's prometheus) asks the compose run's Prometheus; node reads the dashboard.
has_debian_command promtool || missing_packages+=(prometheus)
has_debian_command node || missing_packages+=(nodejs)
as_root_with "building the stand-in images with debootstrap, and rootful podman with a network of its own, need root" \
  "To check compose, as root, once scripts/check-image.sh has built the image:" "sudo scripts/check-compose.sh" \
  podman runc podman-compose debootstrap curl

use_own_containers_conf
network_backend=$(podman info --format '{{.Host.NetworkBackend}}')
[ "$network_backend" = netavark ] \
  || cannot_run "podman uses the $network_backend network backend here, and this check sets up netavark's DNS (aardvark-dns)" \
    "  podman picks CNI when CNI networks exist already: see podman-network(1), network_backend."

if ! podman image exists "$image"; then
  echo "check-compose: the service image $image is not there. scripts/check-image.sh builds it:" >&2
  echo "  pg_virtualenv -t scripts/check-image.sh && scripts/check-compose.sh" >&2
  echo "(or name another image in NEPTUN_CHAT_IMAGE)" >&2
  exit 2
fi

work=$(mktemp -d)
log="$work/tools.log"
# One project per run: its containers, network and volume carry its name, so parallel runs and
# whatever else runs on the machine stay apart.
project="neptun-compose-check-$$"
compose() { podman-compose --project-name "$project" "$@" >>"$log" 2>&1; }
# What the project has left, one line per object.
leftovers() {
  local filter="label=io.podman.compose.project=$project"
  podman ps --all --filter "$filter" --format 'container {{.Names}}'
  podman volume ls --filter "$filter" --format 'volume {{.Name}}'
  podman network ls --filter "$filter" --format 'network {{.Name}}'
}
remove_leftovers() {
  local kind name
  leftovers | while read -r kind name; do
    case $kind in
      container) podman rm --force --volumes "$name" ;;
      *) podman "$kind" rm --force "$name" ;;
    esac >>"$log" 2>&1 || true
  done
}
brought_up=false
cleanup() {
  if [ "$brought_up" = true ]; then
    compose down -v || true
    remove_leftovers
  fi
  # debootstrap mounts /proc and /sys in the root file system; a failed run may leave them there.
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The figures at the end: what each part took.
timings=()
timed() { timings+=("$1 $((SECONDS - phase_start))s"); phase_start=$SECONDS; }
phase_start=$SECONDS

step "stand-in images for postgres, nginx, redis and prometheus"
missing_standins=false
for entry in "${service_standins[@]}"; do
  [ "$(standin_state "${entry%%=*}" "$(service_standin_key "${entry#*=}")")" != missing ] || missing_standins=true
done
if [ "$missing_standins" = true ] && [ -z "$(standin_debian_mirror)" ]; then
  cannot_run "no Debian $standin_suite source in this machine's apt, and the stand-in images are built from one" \
    "  (docs/container.md). Run the compose check on Debian 12 (bookworm)."
fi
ensure_service_standins "$work" "$log"
timed stand-ins

step "podman-compose up (project $project, image $image)"
export NEPTUN_CHAT_IMAGE=$image
export NUXT_SESSION_PASSWORD
NUXT_SESSION_PASSWORD=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export RateLimiting__PermitLimit=$limit RateLimiting__WindowSeconds=$window_seconds
export NEPTUN_CHAT_REST_PORT NEPTUN_CHAT_GRPC_PORT NEPTUN_CHAT_PROMETHEUS_PORT
NEPTUN_CHAT_REST_PORT=$(free_local_port)
NEPTUN_CHAT_GRPC_PORT=$(free_local_port)
while [ "$NEPTUN_CHAT_GRPC_PORT" = "$NEPTUN_CHAT_REST_PORT" ]; do NEPTUN_CHAT_GRPC_PORT=$(free_local_port); done
NEPTUN_CHAT_PROMETHEUS_PORT=$(free_local_port)
while [ "$NEPTUN_CHAT_PROMETHEUS_PORT" = "$NEPTUN_CHAT_REST_PORT" ] || [ "$NEPTUN_CHAT_PROMETHEUS_PORT" = "$NEPTUN_CHAT_GRPC_PORT" ]; do
  NEPTUN_CHAT_PROMETHEUS_PORT=$(free_local_port)
done
brought_up=true
compose up --detach --no-build || fail "podman-compose up"
timed up

# A service's container, found by the labels both Docker Compose and podman-compose set.
container_of() { # SERVICE
  podman ps --all --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -n 1
}
service_failed() { # SERVICE MESSAGE
  podman logs "$(container_of "$1")" 2>&1 | tail -n 30 >&2 || true
  fail "$2"
}
replicas=(neptun-chat-1 neptun-chat-2)
operations_urls=()
for replica in "${replicas[@]}"; do
  address=$(podman port "$(container_of "$replica")" 8082/tcp | head -n 1)
  [ -n "$address" ] || service_failed "$replica" "$replica publishes no operations port"
  operations_urls+=("http://$address")
done

step "waiting for the migration and both replicas to be ready"
ready() {
  local url
  for url in "${operations_urls[@]}"; do
    curl -fsS -o /dev/null "$url/healthz/ready" 2>/dev/null || return 1
  done
}
for _ in $(seq 1 240); do
  if ready; then break; fi
  sleep 0.5
done
ready || service_failed migrate "the replicas did not turn ready within 120 s (the migration's log above)"
migrate_runs=$(podman inspect --format '{{.RestartCount}}' "$(container_of migrate)")
[ "$(podman inspect --format '{{.State.ExitCode}}' "$(container_of migrate)")" = 0 ] \
  || service_failed migrate "the migration did not exit with 0"
say "migrated (migrate ran $((migrate_runs + 1)) times), both replicas ready"
timed ready

rest_url="http://127.0.0.1:$NEPTUN_CHAT_REST_PORT"
grpc_url="http://127.0.0.1:$NEPTUN_CHAT_GRPC_PORT/neptun.chat.v1.ChatService/CreateProjectChat"
# nginx may start before a replica listens: wait until it passes a call through (a 401 without a
# session: nothing is written, nothing counted against a limit).
for _ in $(seq 1 60); do
  status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$rest_url/api/users/1/projects/1/chats" \
    -H 'Content-Type: application/json' -d '{}' 2>/dev/null || true)
  [ "$status" = 401 ] && break
  sleep 0.5
done
[ "$status" = 401 ] || service_failed proxy "nginx did not pass a request through (last status: $status)"

sql() { podman exec "$(container_of postgres)" psql -X -q -v ON_ERROR_STOP=1 -tA -U neptun -d neptun -c "$1"; }
new_user() { # NAME: prints "USER_ID PROJECT_ID COOKIE"
  local user_id project_id cookie
  user_id=$(sql "INSERT INTO neptun_user (primary_email) VALUES ('$1@neptun.local') RETURNING id")
  project_id=$(sql "INSERT INTO neptun_user_project (name, type, main_language, neptun_user_id) VALUES ('Compose check', 'web-app', 'typescript', $user_id) RETURNING id")
  cookie=$(podman run --rm --network none -e NUXT_SESSION_PASSWORD "$image" seal-session "$user_id" "$1@neptun.local" 2>>"$log")
  echo "$user_id $project_id $cookie"
}
chats_of() { sql "SELECT count(*) FROM project_chat_conversation WHERE project_id = $1"; }

# One create through nginx; prints the outcome: "created", or "refused SECONDS" with the pushback
# in seconds (REST's Retry-After, gRPC's grpc-retry-pushback-ms rounded up), or "other WHAT".
create_rest() { # USER_ID PROJECT_ID COOKIE NAME
  local out="$work/rest" status retry_after
  status=$(curl -sS -o "$out.body" -D "$out.headers" -w '%{http_code}' -X POST \
    "$rest_url/api/users/$1/projects/$2/chats" -H 'Content-Type: application/json' \
    -H "Cookie: neptun-session=$3" -d "{\"model\": \"google/gemma-2-27b-it\", \"name\": \"$4\"}")
  retry_after=$(sed -n 's/^retry-after: *\([0-9]*\).*/\1/Ip' "$out.headers")
  case $status in
    201) echo created ;;
    429) echo "refused ${retry_after:-none}" ;;
    *) echo "other REST $status: $(head -c 200 "$out.body")" ;;
  esac
}
# With a request id, so that a call sent again cannot make a second chat. curl 7.88 sometimes
# reports a reset stream (exit code 92) and no answer when the service answers a call before
# reading its body (a refusal: the limiter runs first), also without nginx in between; such a call
# is sent again, and counted in $work/resets.
create_grpc() { # USER_ID PROJECT_ID COOKIE NAME
  local out="$work/grpc" status pushback attempt curl_status
  { protobuf_int 1 "$1"; protobuf_int 2 "$2"; protobuf_string 3 google/gemma-2-27b-it; protobuf_string 4 "$4"
    protobuf_string 5 "$(cat /proc/sys/kernel/random/uuid)"; } > "$out.message"
  for attempt in 1 2 3 4 5; do
    curl_status=0
    grpc_post "$grpc_url" "$out.message" "$out" -H "cookie: neptun-session=$3" 2>>"$log" || curl_status=$?
    status=$(grpc_status "$out.headers")
    # Through nginx the same reset reaches curl as nginx's 502 for the stream, with no gRPC status.
    if [ -z "$status" ] && { [ "$curl_status" = 92 ] || grep -qE '^HTTP/2 502' "$out.headers" 2>/dev/null; }; then
      echo reset >> "$work/resets"; continue
    fi
    [ "$curl_status" = 0 ] || { echo "other curl exit code $curl_status"; return 0; }
    break
  done
  pushback=$(sed -n 's/^grpc-retry-pushback-ms: *\([0-9]*\).*/\1/Ip' "$out.headers")
  case $status in
    # A reply holds the new chat: at least its id, so more than the 5-byte prefix.
    0) if [ "$(stat -c %s "$out.reply")" -gt 5 ]; then echo created; else echo "other gRPC OK without a chat"; fi ;;
    8) echo "refused $([ -n "$pushback" ] && echo $(((pushback + 999) / 1000)) || echo none)" ;;
    *) echo "other gRPC status ${status:-none}: $(sed -n 's/^grpc-message: *//Ip' "$out.headers")" ;;
  esac
}

# Finished create calls on either surface, as each replica's HTTP server counts them.
served_by_replicas() {
  local url
  for url in "${operations_urls[@]}"; do
    curl -fsS "$url/metrics" | awk '
      /^http_server_request_duration_seconds_count\{/ && (/CreateProjectChat/ || /chats"/) { sum += $NF }
      END { printf "%d ", sum }'
  done
}

step "a chat over REST and one over native gRPC, through nginx"
read -r ada_id ada_project ada_cookie <<<"$(new_user compose-ada)"
outcome=$(create_rest "$ada_id" "$ada_project" "$ada_cookie" "Compose over REST")
[ "$outcome" = created ] || fail "REST create through nginx: $outcome"
outcome=$(create_grpc "$ada_id" "$ada_project" "$ada_cookie" "Compose over gRPC")
[ "$outcome" = created ] || fail "gRPC create through nginx: $outcome"
[ "$(chats_of "$ada_project")" = 2 ] || fail "2 creates answered, but $(chats_of "$ada_project") chats stored"
timed creates

step "one rate limit for both replicas: limit $limit, $limit_calls calls through nginx, REST and gRPC in turn"
read -r bob_id bob_project bob_cookie <<<"$(new_user compose-bob)"
read -r -a served_before <<<"$(served_by_replicas)"
: > "$work/resets"
created=0
refused=0
pushbacks=()
for call in $(seq 1 "$limit_calls"); do
  if [ $((call % 2)) = 1 ]; then
    outcome=$(create_rest "$bob_id" "$bob_project" "$bob_cookie" "Limited $call")
  else
    outcome=$(create_grpc "$bob_id" "$bob_project" "$bob_cookie" "Limited $call")
  fi
  case $outcome in
    created) created=$((created + 1)) ;;
    "refused "[0-9]*)
      pushback=${outcome#refused }
      # The time left in the window, which began with this loop's first call moments ago.
      [ "$pushback" -ge $((window_seconds - 120)) ] && [ "$pushback" -le "$window_seconds" ] \
        || fail "call $call refused with a pushback of $pushback s, not the ${window_seconds} s window's time left"
      pushbacks+=("$pushback")
      refused=$((refused + 1))
      ;;
    *) fail "call $call: $outcome (a refusal must carry Retry-After or grpc-retry-pushback-ms)" ;;
  esac
done
resets=$(wc -l < "$work/resets")
stored=$(chats_of "$bob_project")
window_left=$(podman exec "$(container_of redis)" redis-cli ttl "rl:fw:{neptun-chat:user:$bob_id}")
say "$created created, $refused refused, $stored stored; pushback $(printf '%s\n' "${pushbacks[@]}" | sort -n | uniq -c | awk '{ printf "%s%ss x%s", sep, $2, $1; sep = ", " }') while the window had ${window_left}s left; $resets gRPC calls sent again after a reset stream"
[ "$created" = "$limit" ] && [ "$stored" = "$limit" ] \
  || fail "$created of $limit_calls calls succeeded and $stored chats are stored, not exactly the limit $limit: the replicas do not share one limit"

# Each replica's own count of the calls above (and of those sent again).
expected=$((limit_calls + resets))
for attempt in $(seq 1 20); do
  read -r -a served_after <<<"$(served_by_replicas)"
  served=($((served_after[0] - served_before[0])) $((served_after[1] - served_before[1])))
  [ $((served[0] + served[1])) -ge "$expected" ] && break
  sleep 0.2 # a replica counts a call as it ends, which can be just after the reply
done
say "served: ${replicas[0]} ${served[0]}, ${replicas[1]} ${served[1]} of the $expected calls"
[ $((served[0] + served[1])) = "$expected" ] || fail "the replicas counted $((served[0] + served[1])) calls, not the $expected sent"
[ "${served[0]}" -gt 0 ] && [ "${served[1]}" -gt 0 ] || fail "one replica served every call: nginx did not balance them"
for i in 0 1; do
  failed_open=$(curl -fsS "${operations_urls[$i]}/metrics" | awk '/^neptun_chat_rate_limit_failed_open_total/ { sum += $NF } END { printf "%d\n", sum }')
  [ "$failed_open" = 0 ] || fail "${replicas[$i]} let $failed_open creates through without Redis"
done
timed "rate limit"

step "Prometheus: both replicas scraped, their metrics there, every recording rule with data, no alert firing"
prometheus_url="http://127.0.0.1:$NEPTUN_CHAT_PROMETHEUS_PORT"
rules_file=deploy/prometheus/neptun-chat.rules.yml
# One instant query; promtool prints a line per sample: {LABELS} => VALUE @[TIME].
query() { promtool query instant "$prometheus_url" "$1" 2>>"$log" || true; }
# The replicas (scrape targets) that have a series of METRIC, as "neptun-chat-1:8082 neptun-chat-2:8082".
instances_with() { # METRIC_SELECTOR
  query "count by (instance) ($1)" | sed -n 's/^{instance="\([^"]*\)"} => .*/\1/p' | sort | paste -sd ' ' -
}
replica_targets=$(printf '%s:8082\n' "${replicas[@]}" | paste -sd ' ' -)
rest_route='http_route="/api/users/{user_id}/projects/{project_id}/chats"'
grpc_route='http_route="/neptun.chat.v1.ChatService/CreateProjectChat"'
# What Prometheus does not show yet, one line each; nothing once all is there.
prometheus_problems() {
  local selector name value
  [ "$(instances_with 'up{job="neptun-chat"} == 1')" = "$replica_targets" ] || echo "not both replicas up: $(query 'up')"
  for selector in "http_server_request_duration_seconds_count{$rest_route}" "http_server_request_duration_seconds_count{$grpc_route}" \
    neptun_chat_create_queue_depth neptun_chat_create_results_total; do
    [ "$(instances_with "$selector")" = "$replica_targets" ] || echo "$selector not there for both replicas (only: $(instances_with "$selector"))"
  done
  # A native call's outcome is its gRPC status, which the objectives read (HTTP says 200 always).
  [ -n "$(query "http_server_request_duration_seconds_count{$grpc_route, rpc_grpc_status_code=\"0\"}")" ] \
    || echo "no native create counted with rpc_grpc_status_code=\"0\""
  # Every chat this check created, counted by the replicas that wrote it.
  value=$(query 'sum(neptun_chat_create_results_total{result="written"})' | sed -n 's/.* => \([^ ]*\) @.*/\1/p')
  [ "$value" = "$written" ] || echo "$written chats written, but Prometheus counts ${value:-none}"
  # neptun_chat_database_unavailable_total is not among the queries: the replicas refuse no create
  # here, and a counter that never counted may not be exported at all.
  for name in $(sed -n 's/^      - record: //p' "$rules_file"); do
    value=$(query "$name" | sed -n 's/.* => \([^ ]*\) @.*/\1/p')
    case $value in
      "" | NaN) echo "the recording rule $name returns ${value:-nothing}" ;;
    esac
  done
  for name in neptun_chat:create_answers_counted:rate5m neptun_chat:create_answers_succeeded:rate5m; do
    [ -n "$(query "$name > 0")" ] || echo "$name is 0: the rules do not see the creates"
  done
  [ -z "$(query 'ALERTS{alertstate="firing"}')" ] || echo "alerts firing: $(query 'ALERTS{alertstate="firing"}')"
}
# A counter's first sample shows no increase, so rate() sees creates only once Prometheus holds a
# sample from before them: all the creates above may have come before the first scrape. So once
# both replicas' request series are scraped, a user of its own creates once more on each surface,
# twice (nginx alternates the replicas), within its limit.
for _ in $(seq 1 30); do
  [ "$(instances_with "http_server_request_duration_seconds_count{$rest_route}")" = "$replica_targets" ] \
    && [ "$(instances_with "http_server_request_duration_seconds_count{$grpc_route}")" = "$replica_targets" ] && break
  sleep 1
done
read -r late_user late_project late_cookie <<<"$(new_user compose-check-late)"
late_creates=0
for i in 1 2; do
  for surface in rest grpc; do
    outcome=$("create_$surface" "$late_user" "$late_project" "$late_cookie" "Scraped $surface $i")
    [ "$outcome" = created ] || fail "a create after the first scrape ($surface): $outcome"
    late_creates=$((late_creates + 1))
  done
done
written=$((2 + limit + late_creates))
# Prometheus scrapes every 5 s (deploy/prometheus/prometheus.yml), and the recording rules run
# once a minute: give them two rounds after the creates.
for attempt in $(seq 1 75); do
  problems=$(prometheus_problems)
  [ -n "$problems" ] || break
  sleep 2
done
[ -z "$problems" ] || { podman logs "$(container_of prometheus)" 2>&1 | tail -n 20 >&2 || true; fail "Prometheus: $problems"; }
pending=$(query 'ALERTS{alertstate="pending"}' | sed -n 's/.*alertname="\([^"]*\)".*/\1/p' | paste -sd ' ' -)
say "both replicas up and scraped, $written written creates counted, every recording rule has data, no alert firing${pending:+ (pending: $pending)}"
say "error ratio over 5m: $(query 'neptun_chat:create_errors:ratio_rate5m' | sed 's/ @.*//'), slow ratio over 5m: $(query 'neptun_chat:create_slow:ratio_rate5m' | sed 's/ @.*//')"
timed prometheus

step "every query of the Grafana dashboard (deploy/grafana/neptun-chat.json) returns data"
# Grafana's $__rate_interval becomes 1m, four of Prometheus' 5 s scrapes. The two counters that
# count only faults (database refusals, creates let through without Redis) have no data on a
# healthy run; their queries must still be valid PromQL.
dashboard_queries=$(node -e '
  const dashboard = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const panel of dashboard.panels) for (const target of panel.targets) console.log(`${panel.title}\t${target.expr}`);
' deploy/grafana/neptun-chat.json)
faults_only='neptun_chat_database_unavailable_total|neptun_chat_rate_limit_failed_open_total'
panel_queries=0
while IFS=$'\t' read -r title expr; do
  expr=${expr//'$__rate_interval'/1m}
  answer=$(promtool query instant "$prometheus_url" "$expr" 2>&1) || fail "panel \"$title\": $expr is refused: $answer"
  if [ -z "$answer" ] && ! [[ $expr =~ $faults_only ]]; then fail "panel \"$title\": $expr returns no data"; fi
  panel_queries=$((panel_queries + 1))
done <<<"$dashboard_queries"
say "$panel_queries queries of $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).panels.length)' deploy/grafana/neptun-chat.json) panels answered"
timed dashboard

step "podman-compose down -v"
compose down -v || fail "podman-compose down -v"
# podman-compose 1.0 removes the containers and the volumes, but not the network it created.
left=$(leftovers)
if [ "$left" = "network ${project}_default" ]; then
  podman network rm "${project}_default" >>"$log" 2>&1
  say "podman-compose down left its network ${project}_default (as 1.0 does); removed it"
  left=$(leftovers)
fi
[ -z "$left" ] || fail "left behind after down -v: $(echo "$left" | tr '\n' ' ')"
brought_up=false
timed down

say "figures: ${timings[*]}"
say "passed in ${SECONDS}s: up, migrated, REST and gRPC through nginx, both replicas serving, one limit of $limit in Redis, Prometheus and the dashboard's queries, nothing left after down -v"
