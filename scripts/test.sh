#!/usr/bin/env bash
# Checks the formatting (scripts/check-format.sh) and the Prometheus rules, runs every test project
# against a throwaway PostgreSQL cluster (Debian's pg_virtualenv), then prints one closing line:
# "N passed, N failed". The closing line comes in every case: a step that stops the run before the
# tests (a missing package, the format check, the rule check, the proto lint, the manifest check,
# the cluster) counts as one failure.
# Works as root and as a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/postgres.sh

closed=false
temporary_files=()
# Prints the closing line; the run inside pg_virtualenv hands it to the outer run instead (below),
# which prints it last, after whatever pg_virtualenv prints on its way out.
closing_line() { # PASSED FAILED
  if [ -n "${NEPTUN_TEST_CLOSED:-}" ]; then
    echo "$1 passed, $2 failed" >"$NEPTUN_TEST_CLOSED"
  else
    echo "$1 passed, $2 failed"
  fi
  closed=true
}
at_exit() {
  local exit_status=$?
  rm -f "${temporary_files[@]}"
  if [ "$closed" = false ]; then
    echo "test.sh: stopped (exit status $exit_status) before it could count the tests; see above" >&2
    closing_line 0 1
    [ "$exit_status" -ne 0 ] || exit_status=1
  fi
  exit "$exit_status"
}
trap at_exit EXIT
# A step that must pass before the tests: on failure, say which one, then the closing line.
run_step() { # DESCRIPTION COMMAND...
  local description=$1
  shift
  if ! "$@"; then
    echo "test.sh: $description failed; the tests were not run" >&2
    exit 1
  fi
}

require_postgres_packages
# The contract tests run once more through pgbouncer in transaction mode; the OpenAPI document and
# the Kubernetes manifests are checked with pinned npm tools (npx), as the protos are with buf.
require_debian_command pgbouncer pgbouncer
require_debian_command npx nodejs npm
# The rate limit shared by replicas is tested against a real Redis, started by the tests themselves.
require_debian_command redis-server redis-server
# The nginx configuration in deploy/nginx is tested in front of two replicas, run by the tests too.
require_debian_command nginx nginx
# The anonymous flood test floods with a real load generator (h2load, for gRPC and HTTP/1.1).
require_debian_command h2load nghttp2-client
# A PostgreSQL failover is tested behind one address too: HAProxy, switched by the tests.
require_debian_command haproxy haproxy
# The alert rules in deploy/prometheus are checked and unit-tested with promtool.
require_debian_command promtool prometheus

if [ -z "${NEPTUN_TEST_CLUSTER:-}" ]; then
  # The packages must be the ones the committed packages.lock.json files name (Directory.Build.props).
  run_step "the locked restore (dotnet restore --locked-mode)" \
    dotnet restore Neptun.Grpc.sln --locked-mode --nologo --verbosity quiet
  # The code must follow .editorconfig; checked once, before any database is made.
  run_step "the format check (scripts/check-format.sh)" scripts/check-format.sh
  # dotnet test builds only the test projects and what they reference: the benchmark's projects
  # must still compile against the service's code.
  run_step "the benchmark projects build (bench/)" \
    dotnet build Neptun.Grpc.sln --configuration Release --nologo --verbosity quiet
  # The alert rules: valid, their unit tests pass, and each test can fail (its mutants, which take
  # half a minute to a minute, only in a full run).
  run_step "the Prometheus rule check (scripts/check-prometheus-rules.sh)" \
    scripts/check-prometheus-rules.sh $([ $# -eq 0 ] || echo --no-mutants)
  # pg_virtualenv creates a cluster, exports PGHOST/PGPORT/PGUSER/PGPASSWORD, runs us again, and
  # removes the cluster afterwards, whatever the outcome. -t keeps the cluster in a temporary
  # folder even as root: root's default, a cluster named "regress" under /etc/postgresql, refuses
  # to start while another run (or a stale one) holds that name. It then needs a free port.
  # The inner run leaves its closing line in this file; if pg_virtualenv fails before the inner
  # run counts (or the inner run is killed), there is none and at_exit counts one failure.
  closing_file=$(mktemp)
  temporary_files+=("$closing_file")
  inner_status=0
  env NEPTUN_TEST_CLUSTER=1 NEPTUN_TEST_CLOSED="$closing_file" PGPORT="$(free_local_port)" \
    pg_virtualenv -t "$0" "$@" || inner_status=$?
  if [ -s "$closing_file" ]; then
    cat "$closing_file"
    closed=true
  fi
  exit "$inner_status"
fi

# The API's proto must stay buf STANDARD lint clean (offline: Google's protos come from NuGet).
run_step "the proto lint (scripts/lint-protos.sh)" scripts/lint-protos.sh
# The Kubernetes manifests must stay schema-valid and keep replicas, probes, non-root and Secrets.
run_step "the manifest check (scripts/validate-deploy.sh)" scripts/validate-deploy.sh

log=$(mktemp)
# Reliability tests append one line of figures each here (dotnet test hides passing tests' output).
export NEPTUN_FIGURES_FILE=$(mktemp)
temporary_files+=("$log" "$NEPTUN_FIGURES_FILE")
status=0
dotnet test Neptun.Grpc.sln --configuration Release "$@" 2>&1 | tee "$log" || status=$?

sort "$NEPTUN_FIGURES_FILE"

# The container image, built and run against this cluster, then docker-compose.yml with that image
# (docs/container.md). Each counts as one test in the closing line. A filtered run (any arguments)
# leaves both out unless NEPTUN_IMAGE_CHECK=1.
container_checks=()
run_container_check() { # SCRIPT
  local check_status=0
  "$1" || check_status=$?
  case $check_status in
    0) container_checks+=(passed) ;;
    77) container_checks+=(skipped) ;; # podman cannot run here and this is not CI: it said so loudly
    *) container_checks+=(failed); status=1 ;;
  esac
  return "$check_status"
}
if [ $# -eq 0 ] || [ "${NEPTUN_IMAGE_CHECK:-}" = 1 ]; then
  # The compose check runs the image the image check built, so only after it passed.
  if run_container_check scripts/check-image.sh; then
    run_container_check scripts/check-compose.sh || true
  else
    echo "check-compose: left out, since the image check did not pass"
  fi
else
  echo "check-image, check-compose: left out of a filtered run (NEPTUN_IMAGE_CHECK=1 runs them too)"
fi

# dotnet test prints one summary per test project: "Passed!  - Failed: 0, Passed: 12, ...,
# Duration: 1 s - Neptun.Chat.Service.UnitTests.dll"; each project's line is repeated here, so the
# unit tests' time stays visible, then the closing line adds them up.
grep -E '(Passed|Failed)!  *- *Failed:' "$log" || true
counts=$(awk -v container_checks="${container_checks[*]}" '
  /(Passed|Failed)!  *- *Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") { gsub(",", "", $(i+1)); failed += $(i+1) }
      if ($i == "Passed:") { gsub(",", "", $(i+1)); passed += $(i+1) }
    }
    projects++
  }
  END {
    if (projects == 0) { failed = failed + 1 }
    n = split(container_checks, outcome, " ")
    for (i = 1; i <= n; i++) {
      if (outcome[i] == "passed") { passed++ }
      if (outcome[i] == "failed") { failed++ }
    }
    printf "%d %d\n", passed, failed
  }' "$log")
closing_line ${counts% *} ${counts#* }
exit "$status"
