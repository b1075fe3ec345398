#!/usr/bin/env bash
# Builds the repository's Dockerfile with podman and runs the image as production does, against
# the PostgreSQL in PGHOST/PGPORT/PGUSER/PGPASSWORD (scripts/test.sh's throwaway cluster): migrate,
# then the service as the image's non-root user on a read-only root file system, a 201 over REST,
# gRPC health SERVING, exit code 0 on SIGTERM, and the image's size. Any failed step fails the
# script. The official .NET base images cannot be pulled everywhere, so stand-ins are built first
# (scripts/lib/standin-images.sh); see docs/container.md for what that does and does not prove.
# Where the image cannot be checked here (not root, podman cannot run, no Debian bookworm apt source
# for the stand-ins), this says so, with what to do, and skips (exit code 77); on CI (CI=true) that
# fails. Run alone it needs a PostgreSQL: pg_virtualenv -t scripts/check-image.sh.
# errtrace (-E): a failure inside a function, too, ends in fail() with the tools' last words.
set -eEuo pipefail
cd "$(dirname "$0")/.."
readonly check_name=check-image
. scripts/lib/container-checks.sh

readonly image=localhost/neptun-chat:image-check
log=
trap 'fail "at line $LINENO"' ERR

# The image is migrated and run against a PostgreSQL given the libpq way; scripts/test.sh passes
# its throwaway cluster. Said up front: without it the script would only fail half-way.
missing_variables=()
for variable in PGHOST PGPORT PGUSER PGPASSWORD; do
  [ -n "${!variable:-}" ] || missing_variables+=("$variable")
done
if [ ${#missing_variables[@]} -gt 0 ]; then
  echo "check-image: needs a PostgreSQL to migrate and run the image against, given by PGHOST, PGPORT," >&2
  echo "PGUSER and PGPASSWORD (not set: ${missing_variables[*]}). scripts/test.sh gives it its throwaway" >&2
  echo "cluster; to run the check alone, in a throwaway cluster of its own:" >&2
  echo "  pg_virtualenv -t scripts/check-image.sh" >&2
  exit 2
fi

as_root_with "building the stand-in base images with debootstrap, and rootful podman, need root" \
  "To check the image, as root:" "sudo env \"PATH=\$PATH\" pg_virtualenv -t scripts/check-image.sh" \
  podman runc debootstrap curl
use_own_containers_conf

work=$(mktemp -d)
log="$work/tools.log"
container="neptun-image-check-$$"
database="neptun_image_check_$$"
cleanup() {
  podman rm --force --ignore "$container" >/dev/null 2>&1 || true
  dropdb --if-exists "$database" >/dev/null 2>&1 || true
  # debootstrap mounts /proc and /sys in the root file system; a failed run may leave them there.
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The stand-ins are built from Debian bookworm packages (libicu72, libssl3, ...) fetched through a
# bookworm source of this machine's apt. Without one (Ubuntu, another Debian release) they cannot
# be built here; official images already in podman's store are used as they are (standin_state).
key=$(standin_key)
if [ -z "$(standin_debian_mirror)" ] \
  && { [ "$(standin_state "$standin_aspnet" "$key")" = missing ] || [ "$(standin_state "$standin_sdk" "$key")" = missing ]; }; then
  cannot_run "no Debian $standin_suite source in this machine's apt, and the stand-in base images are built from one" \
    "  (docs/container.md). Run the image check on Debian 12 (bookworm)."
fi

step "stand-in base images"
# Called plainly, not in a condition, so that set -e stops it at its first failing command.
ensure_standin_images "$work" "$log"

step "podman build of the Dockerfile"
previous_image=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
# No layer cache: it would keep every run's build stage (sources, obj, packages) on the machine,
# and it could only spare the restore, since the sources change between runs anyway.
nice -n 10 podman build --pull=never --network host --layers=false --tag "$image" . >>"$log" 2>&1 || fail "podman build"
current_image=$(podman image inspect --format '{{.Id}}' "$image")
if [ -n "$previous_image" ] && [ "$previous_image" != "$current_image" ]; then
  # The last run's image, now untagged: keep the machine from filling up run after run.
  podman rmi "$previous_image" >/dev/null 2>&1 || true
fi

# The service gets its secrets from the environment, never from a command line.
export NUXT_SESSION_PASSWORD
NUXT_SESSION_PASSWORD=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
createdb "$database"
export DATABASE_CONNECTION_STRING="Host=127.0.0.1;Port=${PGPORT};Username=${PGUSER};Password=${PGPASSWORD};Database=${database}"
# As deploy/kubernetes runs it: the image's USER, a read-only root file system with a small
# writable /tmp (.NET puts its diagnostics socket there), no capabilities, no privilege escalation.
confined=(--network host --read-only --tmpfs /tmp:rw,size=64m,mode=1777 --cap-drop all --security-opt no-new-privileges)
in_image() { # ARGS... (runs the image once, as the Kubernetes Job runs migrate)
  podman run --rm "${confined[@]}" -e DATABASE_CONNECTION_STRING -e NUXT_SESSION_PASSWORD "$image" "$@"
}

step "migrate with the image"
in_image migrate >>"$log" 2>&1 || fail "migrate"

psql_value() { psql -X -q -v ON_ERROR_STOP=1 -tA -d "$database" -c "$1"; }
user_id=$(psql_value "INSERT INTO neptun_user (primary_email) VALUES ('image-check@neptun.local') RETURNING id")
project_id=$(psql_value "INSERT INTO neptun_user_project (name, type, main_language, neptun_user_id) VALUES ('Image check', 'web-app', 'typescript', $user_id) RETURNING id")
cookie=$(in_image seal-session "$user_id" image-check@neptun.local 2>>"$log") || fail "seal-session"

step "the service from the image (read-only root, non-root user)"
container_failed() {
  podman logs "$container" 2>&1 | tail -n 30 >&2 || true
  fail "$1"
}

# Starts the service on three free ports and waits until it is ready. Other test runs on the machine
# pick free ports too, so one may take ours between the choice and the bind: then try new ones.
start_service() {
  rest_port=$(free_local_port)
  grpc_port=$(free_local_port)
  while [ "$grpc_port" = "$rest_port" ]; do grpc_port=$(free_local_port); done
  operations_port=$(free_local_port)
  while [ "$operations_port" = "$rest_port" ] || [ "$operations_port" = "$grpc_port" ]; do operations_port=$(free_local_port); done
  podman rm --force --ignore "$container" >/dev/null 2>&1
  podman run --detach --name "$container" "${confined[@]}" \
    -e DATABASE_CONNECTION_STRING -e NUXT_SESSION_PASSWORD \
    -e "Kestrel__Endpoints__Rest__Url=http://127.0.0.1:$rest_port" \
    -e "Kestrel__Endpoints__Grpc__Url=http://127.0.0.1:$grpc_port" \
    -e "Kestrel__Endpoints__Operations__Url=http://127.0.0.1:$operations_port" \
    "$image" >/dev/null || fail "podman run"
  for _ in $(seq 1 120); do
    if [ "$(podman inspect --format '{{.State.Running}}' "$container")" != true ]; then
      # Read whole before grep: under pipefail, grep -q leaving early would fail the pipe with
      # SIGPIPE while podman still writes the stack trace, and the retry would never happen.
      local log
      log=$(podman logs "$container" 2>&1 || true)
      if grep -qi 'address already in use' <<<"$log"; then return 1; fi
      container_failed "the service exited at start"
    fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$operations_port/healthz/ready" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  container_failed "/healthz/ready never answered 200"
}
started=false
for attempt in 1 2 3; do
  if start_service; then started=true; break; fi
  say "a port was taken before the service bound it (attempt $attempt); trying other ports"
done
[ "$started" = true ] || container_failed "no free ports after 3 attempts"

expected_uid=$(podman image inspect --format '{{.Config.User}}' "$image")
pid=$(podman inspect --format '{{.State.Pid}}' "$container")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$uid" != 0 ] && [ "$uid" = "$expected_uid" ] || container_failed "the service runs as UID $uid, not the image's USER ($expected_uid)"
[ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")" = true ] || container_failed "root file system not read-only"
# A write must fail because the file system is read-only, not merely for want of permission.
write_error=$(podman exec --user 0 "$container" touch /app/written-by-check-image 2>&1 || true)
case $write_error in
  *"Read-only file system"*) ;;
  *) container_failed "writing to /app as root in the container did not fail with EROFS: ${write_error:-it succeeded}" ;;
esac
say "runs as UID $uid on a read-only root file system; REST on $rest_port, gRPC on $grpc_port, operations on $operations_port"

step "create a chat over REST"
status=$(curl -sS -o "$work/created.json" -w '%{http_code}' -X POST \
  "http://127.0.0.1:$rest_port/api/users/$user_id/projects/$project_id/chats" \
  -H 'Content-Type: application/json' -H "Cookie: neptun-session=$cookie" \
  -d '{"model": "google/gemma-2-27b-it", "name": "Image check"}')
[ "$status" = 201 ] || container_failed "POST .../chats answered $status: $(head -c 300 "$work/created.json")"

# grpc.health.v1.Health/Check: HealthCheckRequest.service is field 1, and HealthCheckResponse
# SERVING is field 1 = 1, i.e. the reply 00 00000002 08 01.
grpc_health() { # SERVICE_NAME
  if [ -n "$1" ]; then protobuf_string 1 "$1"; fi > "$work/health-request"
  grpc_post "http://127.0.0.1:$grpc_port/grpc.health.v1.Health/Check" "$work/health-request" "$work/health"
  [ "$(grpc_status "$work/health.headers")" = 0 ] || return 1
  [ "$(od -An -tx1 "$work/health.reply" | tr -d ' \n')" = 00000000020801 ]
}
step "grpc.health.v1.Health SERVING over gRPC, for the whole server, ChatService and liveness"
for health_service in "" neptun.chat.v1.ChatService liveness; do
  grpc_health "$health_service" || container_failed "gRPC health for \"$health_service\" is not SERVING"
done
step "the manifest's probe paths and metrics path: 200 on the operations port, 404 on the REST port"
manifest=deploy/kubernetes/deployment.yaml
metrics_path=$(sed -n 's/^ *prometheus.io\/path: *\([^ ]*\) *$/\1/p' "$manifest")
for path in $(sed -n 's/^ *path: *\([^ ]*\) *$/\1/p' "$manifest" | sort -u) "${metrics_path:?no prometheus.io/path in $manifest}"; do
  curl -fsS -o /dev/null "http://127.0.0.1:$operations_port$path" \
    || container_failed "the manifest's $path does not answer 200 on the operations port"
  status=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$rest_port$path")
  [ "$status" = 404 ] || container_failed "$path answered $status on the public REST port, not 404"
done

step "SIGTERM"
podman kill --signal TERM "$container" >/dev/null
exit_code=$(timeout 60 podman wait "$container") || container_failed "the service did not stop within 60 s of SIGTERM"
[ "$exit_code" = 0 ] || container_failed "the service exited with $exit_code on SIGTERM"
# Nothing fails on a warning, but an operator should see what the image complains about.
warnings=$(podman logs "$container" 2>&1 | grep -E '"LogLevel":"(Warning|Error|Critical)"' || true)
if [ -n "$warnings" ]; then
  say "the service logged these warnings or errors:"
  echo "$warnings" | cut -c1-300
fi

size=$(podman image inspect --format '{{.Size}}' "$image")
base_size=$(podman image inspect --format '{{.Size}}' "$standin_aspnet")
say "image $image: $((size / 1000000)) MB ($((base_size / 1000000)) MB of it the aspnet base)"
say "passed in ${SECONDS}s: migrate, read-only non-root run, 201 over REST, gRPC health SERVING, exit 0 on SIGTERM"
