#!/usr/bin/env bash
# Checks deploy/prometheus/neptun-chat.rules.yml with Debian's promtool: the file is valid, its unit
# tests (neptun-chat.rules.test.yml) pass, and they can fail: each alert's expression replaced by
# one that never fires, and each deliberate choice of the rules undone (below), must each make a
# test fail. A mutant that passes means a test that proves nothing. Run by scripts/test.sh;
# --no-mutants (a filtered run's choice) leaves the mutants out, which take half a minute to a
# minute.
set -euo pipefail
cd "$(dirname "$0")/.."
readonly rules=deploy/prometheus/neptun-chat.rules.yml tests=deploy/prometheus/neptun-chat.rules.test.yml

for promtool_check in "check rules $rules" "test rules $tests"; do
  # shellcheck disable=SC2086 # two words of promtool's command and the file, split on purpose
  output=$(promtool $promtool_check 2>&1) || { echo "$output" >&2; exit 1; }
done
if [ "${1:-}" = --no-mutants ]; then
  echo "check-prometheus-rules: rules valid, tests pass (mutants left out)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The rules with the expr of one alert or recording rule replaced (an inline one, or a block of
# more-indented lines after "expr: |").
with_expr() { # NAME EXPR
  awk -v name="$1" -v mutant="$2" '
    in_block && /^          / { next }
    { in_block = 0 }
    $0 ~ "^      - (alert|record): " name "$" { target = 1 }
    target && /^        expr:/ { print "        expr: " mutant; target = 0; in_block = ($0 ~ /\|$/); next }
    { print }' "$rules"
}

# Each mutant is a folder with its rules and the tests beside them, named by what it breaks.
mutant_file() { # DESCRIPTION: prints the path its rules go to
  local dir
  dir=$(mktemp -d "$work/mutant.XXXX")
  echo "$1" > "$dir/description"
  cp "$tests" "$dir/"
  echo "$dir/neptun-chat.rules.yml"
}

for alert in $(sed -n 's/^      - alert: //p' "$rules"); do
  with_expr "$alert" 'vector(1) < 0' > "$(mutant_file "$alert never fires")"
done
# The choices the must-not-fire tests stand for, undone one by one.
while IFS='|' read -r description sed_script; do
  sed -e "$sed_script" "$rules" > "$(mutant_file "$description")"
done <<'MUTANTS'
REST 4xx counted by the availability objective|s/, http_response_status_code!~"4\.\."//
gRPC refusals of the caller counted by the availability objective|s/, rpc_grpc_status_code!~"[^"]*"//
REST 5xx not counted as failures|s/http_response_status_code=~"5\.\."/http_response_status_code=~"9.."/
refusals and failures counted by the latency objective|s/, http_response_status_code=~"2\.\."//g;s/, rpc_grpc_status_code="0"//g
the burn-rate alerts without their 10 failed or slow creates|s/ *and [^ ]* \* 300 >= 10//;s/ *and sum_over_time([^)]*) \* 60 >= 10//
the latency page on the 5-minute window alone|s/create_slow:ratio_rate1h >/create_slow:ratio_rate5m >/
the availability page on the 5-minute window alone|s/create_errors:ratio_rate1h >/create_errors:ratio_rate5m >/
NeptunChatDatabaseUnavailable without its wait|/alert: NeptunChatDatabaseUnavailable$/,/alert:/{/^        for:/d}
NeptunChatCreateQueueNearFull without its wait|/alert: NeptunChatCreateQueueNearFull$/,/alert:/{/^        for:/d}
NeptunChatRateLimitFailingOpen without its wait|/alert: NeptunChatRateLimitFailingOpen$/,/alert:/{/^        for:/d}
NeptunChatReplicaNotScraped without its wait|/alert: NeptunChatReplicaNotScraped$/,/alert:/{/^        for:/d}
MUTANTS

unchanged=$(for dir in "$work"/mutant.*; do cmp -s "$dir/neptun-chat.rules.yml" "$rules" && cat "$dir/description"; done || true)
[ -z "$unchanged" ] || { echo "check-prometheus-rules: these mutants change nothing; fix them: $unchanged" >&2; exit 1; }
# One promtool per core; a mutant is a survivor when its tests pass.
survivors=$(printf '%s\n' "$work"/mutant.* | xargs -P "$(nproc)" -I{} sh -c \
  'promtool test rules "$1/neptun-chat.rules.test.yml" >/dev/null 2>&1 && cat "$1/description"; true' - {})
mutants=$(find "$work" -name description | wc -l)
if [ -n "$survivors" ]; then
  echo "check-prometheus-rules: the tests still pass with these mutants, so they do not test them:" >&2
  echo "$survivors" | sed 's/^/  /' >&2
  exit 1
fi
echo "check-prometheus-rules: rules valid, tests pass, and each of $mutants mutants fails them"
