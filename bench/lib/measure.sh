# Sourced by bench/run.sh (after bench/lib/service-sql.sh): one function per load generator, each printing one line
#   REQUESTS_PER_S P50_MS P99_MS ERRORS SERVICE_CPU_MS_PER_REQUEST SERVICE_RSS_UNDER_LOAD_MB POSTGRES_CPU_MS_PER_REQUEST
# and the tables. Uses run.sh's variables: work, service_pid, service_name, rest_port, grpc_port, tools,
# postmaster_pid.

clock_ticks=$(getconf CLK_TCK)

# The service's user + system CPU time so far, in clock ticks (fields 14 and 15 of /proc/PID/stat).
service_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$service_pid/stat"; }

# PostgreSQL's user + system CPU time so far, in clock ticks: the postmaster's own, that of its
# live children (backends, WAL writer, checkpointer...) and that of the children it has reaped
# (its cutime and cstime, fields 16 and 17), so that pgbench's backends, which exit with their
# clients, count too. Read it a second after a client disconnects, or the reaping is not done.
postgres_cpu_ticks() {
  local children
  children=$(cat /proc/"$postmaster_pid"/task/*/children)
  # The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  { cat "/proc/$postmaster_pid/stat"; for child in $children; do cat "/proc/$child/stat" 2>/dev/null || true; done; } \
    | awk -v pm="$postmaster_pid" '{ sub(/^.*\) /, ""); total += $12 + $13; if (NR == 1) total += $14 + $15 } END { print total }'
}

# The CPU ticks PostgreSQL spends while a load generator runs: "before" now, "after" a second
# after the load ends (see postgres_cpu_ticks).
postgres_cpu_after() { sleep 1; postgres_cpu_ticks; }

# The service's peak resident set so far (VmHWM), in MB.
service_peak_rss_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$service_pid/status"; }
service_rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$service_pid/status"; }

# CPU milliseconds per request from two tick counts and a request count.
cpu_ms_per_request() { awk -v t="$(( $2 - $1 ))" -v hz="$clock_ticks" -v n="$3" 'BEGIN { printf "%.3f", (n > 0 ? t * 1000 / hz / n : 0) }'; }

# Reads latencies in microseconds, one a line, and prints "P50_MS P99_MS".
percentiles_ms() {
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- -"; exit }
    p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
    printf "%.2f %.2f\n", p50 / 1000, p99 / 1000 }'
}

sum_lines() { awk '{ s += $1 } END { print s + 0 }'; }

chat_count() { psql -Atc "SELECT count(*) FROM public.chat_conversation"; }

threads_for() { if [ "$1" -lt 2 ]; then echo 1; else echo 2; fi; }

# Milliseconds since the epoch.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Waits for the URL to answer 200, polling every 50 ms so that the time to ready is read closely.
wait_until_ready() { # URL
  local deadline=$(( SECONDS + 60 ))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -fs "$1" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$service_pid" 2>/dev/null; then
      echo "bench: the service stopped:" >&2; tail -n 30 "$work"/service-*.log >&2; exit 1
    fi
    sleep 0.05
  done
  echo "bench: the service did not become ready" >&2; exit 1
}

# One REST create as user 1 in their first project; fails unless it answers 201.
first_create() {
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$rest_port/api/users/1/projects/1/chats" \
    -H 'Content-Type: application/json' -H "Cookie: neptun-session=$(sed -n 1p "$BENCH_COOKIES")" \
    -d '{"model":"google/gemma-2-27b-it","name":"Benchmark first create"}')
  [ "$status" = 201 ] || { echo "bench: the first create answered $status, not 201:" >&2; tail -n 30 "$work/service-$service_name.log" >&2; exit 1; }
}

# One native gRPC create as user 1 in their first project; fails unless its gRPC status is OK.
first_grpc_call_ok() {
  [ -f "$work/grpc-body.1" ] || tools grpc-body 1 1 "$work/grpc-body.1"
  local headers
  headers=$(curl -s --http2-prior-knowledge -o /dev/null -D - -X POST --data-binary "@$work/grpc-body.1" \
    -H 'content-type: application/grpc' -H 'te: trailers' -H "cookie: neptun-session=$(sed -n 1p "$BENCH_COOKIES")" \
    "http://127.0.0.1:$grpc_port/neptun.chat.v1.ChatService/CreateProjectChat")
  grep -qi '^grpc-status: 0' <<<"$headers" || { echo "bench: the first gRPC call did not answer OK:" >&2; echo "$headers" >&2; exit 1; }
}

# The floor touches no database: PostgreSQL's CPU in its rounds is no cost of its requests.
postgres_cpu_per_request() { # BEFORE AFTER REQUESTS
  case "$service_name" in floor | floor-paced) echo - ;; *) cpu_ms_per_request "$@" ;; esac
}

# A fair round starts from the same database as every other: what the earlier rounds and the
# warm-up wrote is deleted (bench/reset.sql: back to the grown history), vacuumed (autovacuum is off
# for those tables, bench/grow.sql) and checkpointed, and the server is left a moment to go quiet.
# Every surface gets it alike.
settle() {
  psql -q -v ON_ERROR_STOP=1 -v last_history_chat="$last_history_chat" -f bench/reset.sql >/dev/null
  sleep "$settle_seconds"
}

# The service's RSS halfway through a round of SECONDS, written to FILE (run in the background).
sample_rss_midway() { # SECONDS FILE
  sleep "$(awk -v s="$1" 'BEGIN { print s / 2 }')"
  service_rss_mb >"$2" 2>/dev/null || echo - >"$2"
}

# STATEMENT: job (the job's minimal statement) or statement (the service's own), bench/lib/service-sql.sh.
run_pgbench() { # CONNECTIONS SECONDS STATEMENT
  rm -f "$work"/pgbench_log.*
  local out="$work/pgbench.out" pg_before pg_after
  pg_before=$(postgres_cpu_ticks)
  pgbench -n -M prepared -c "$1" -j "$(threads_for "$1")" -T "$2" -f "$work/pgbench-$3.sql" \
    -l --log-prefix="$work/pgbench_log" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
  pg_after=$(postgres_cpu_after)
  local tps failed processed
  # With 256 clients on 2 cores a 5 s warm-up ended before the clients had all connected:
  # pgbench then processes nothing and prints no tps line.
  tps=$(grep -oP '^tps = \K[0-9.]+' "$out" | tail -n 1) || tps=0
  if [ "$tps" = 0 ] && ! grep -q 'actually processed: 0$' "$out"; then
    echo "bench: pgbench printed no tps:" >&2; cat "$out" >&2; exit 1
  fi
  failed=$(grep -oP 'number of failed transactions: \K[0-9]+' "$out" || echo 0)
  processed=$(grep -oP 'number of transactions actually processed: \K[0-9]+' "$out" || echo 0)
  echo "$(printf '%.0f' "$tps") $(cat "$work"/pgbench_log.* | awk '{ print $3 }' | percentiles_ms) $failed - - \
$(cpu_ms_per_request "$pg_before" "$pg_after" "$processed")"
}

# The paced floor's requests/s at CONNECTIONS, from BENCH_FLOOR_PACED_RPS (connections=rate pairs).
paced_rps() { # CONNECTIONS
  local pair
  for pair in $floor_paced_rps; do [ "${pair%%=*}" != "$1" ] || { echo "${pair#*=}"; return; }; done
  echo 8000
}

run_rest() { # CONNECTIONS SECONDS
  local before after out="$work/wrk.out" pg_before pg_after
  pg_before=$(postgres_cpu_ticks)
  before=$(service_cpu_ticks)
  sample_rss_midway "$2" "$work/rss.midway" &
  local sampler=$!
  # The paced floor: each connection waits between its requests (rest.lua's delay), whole milliseconds.
  BENCH_PACE_MS=$([ "$service_name" = floor-paced ] && echo $(( $1 * 1000 / $(paced_rps "$1") )) || true) \
  wrk -t "$(threads_for "$1")" -c "$1" -d "${2}s" -s bench/rest.lua "http://127.0.0.1:$rest_port" >"$out" 2>&1 \
    || { cat "$out" >&2; exit 1; }
  after=$(service_cpu_ticks)
  wait "$sampler" || true
  pg_after=$(postgres_cpu_after)
  local line requests duration p50 p99 errors
  line=$(grep '^RESULT ' "$out") || { cat "$out" >&2; exit 1; }
  requests=$(grep -oP 'requests=\K[0-9]+' <<<"$line")
  duration=$(grep -oP 'duration_us=\K[0-9]+' <<<"$line")
  p50=$(grep -oP 'p50_us=\K[0-9]+' <<<"$line")
  p99=$(grep -oP 'p99_us=\K[0-9]+' <<<"$line")
  errors=$(grep -oP 'errors=\K[0-9]+' <<<"$line")
  awk -v n="$requests" -v d="$duration" -v p50="$p50" -v p99="$p99" -v e="$errors" \
    -v cpu="$(cpu_ms_per_request "$before" "$after" "$requests")" -v rss="$(cat "$work/rss.midway")" \
    -v pg="$(postgres_cpu_per_request "$pg_before" "$pg_after" "$requests")" \
    'BEGIN { printf "%.0f %.2f %.2f %d %s %s %s\n", n / (d / 1e6), p50 / 1000, p99 / 1000, e, cpu, rss, pg }'
}

# h2load sends one body and one set of headers per process, so the connections are split over up
# to four processes, each another user's cookie and project. HTTP status is 200 for every gRPC
# reply, so an error is a request that did not create a chat (or that h2load saw fail).
run_grpc() { # CONNECTIONS SECONDS
  local processes=$(( $1 < 4 ? $1 : 4 )) pids=() i
  rm -f "$work"/h2load_log.* "$work"/h2load.out.*
  local before after chats_before chats_after pg_before pg_after
  chats_before=$(chat_count)
  pg_before=$(postgres_cpu_ticks)
  before=$(service_cpu_ticks)
  sample_rss_midway "$2" "$work/rss.midway" &
  local sampler=$!
  for i in $(seq 1 "$processes"); do
    local user=$(( i * 97 )) per=$(( $1 / processes + (i <= $1 % processes ? 1 : 0) ))
    [ -f "$work/grpc-body.$user" ] || tools grpc-body "$user" $(( (user - 1) * 5 + 1 )) "$work/grpc-body.$user"
    # The paced floor: --rps is per client.
    h2load -c "$per" -t 1 -m 1 -D "$2" -d "$work/grpc-body.$user" \
      $([ "$service_name" = floor-paced ] && echo "--rps=$(( ($(paced_rps "$1") + $1 - 1) / $1 ))") \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      -H "cookie: neptun-session=$(sed -n "${user}p" "$work/cookies")" \
      --log-file="$work/h2load_log.$i" \
      "http://127.0.0.1:$grpc_port/neptun.chat.v1.ChatService/CreateProjectChat" >"$work/h2load.out.$i" 2>&1 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || { cat "$work"/h2load.out.* >&2; exit 1; }; done
  after=$(service_cpu_ticks)
  wait "$sampler" || true
  pg_after=$(postgres_cpu_after)
  chats_after=$(chat_count)
  # "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout"
  local done failed succeeded
  done=$(cat "$work"/h2load.out.* | grep -oP '^requests: .*?\K[0-9]+(?= done)' | sum_lines)
  succeeded=$(cat "$work"/h2load.out.* | grep -oP '^requests: .*?\K[0-9]+(?= succeeded)' | sum_lines)
  failed=$(cat "$work"/h2load.out.* | grep -oP '^requests: .*?, \K[0-9]+ failed, [0-9]+ errored, [0-9]+ timeout' \
    | grep -oP '[0-9]+' | sum_lines)
  if [ "$done" -eq 0 ]; then
    echo "bench: h2load completed no request:" >&2; cat "$work"/h2load.out.* >&2; exit 1
  fi
  local missing=$(( succeeded - (chats_after - chats_before) ))
  [ "$missing" -gt 0 ] && [[ "$service_name" != floor* ]] || missing=0
  echo "$(awk -v n="$done" -v s="$2" 'BEGIN { printf "%.0f", n / s }') \
$(cat "$work"/h2load_log.* | awk '{ print $3 }' | percentiles_ms) $(( failed + missing )) \
$(cpu_ms_per_request "$before" "$after" "$done") $(cat "$work/rss.midway") \
$(postgres_cpu_per_request "$pg_before" "$pg_after" "$done")"
}

# Appends one measured round: SURFACE BATCHING CONNECTIONS DATA PASS, then the measured line.
# For pgbench, BATCHING is its statement: job or statement.
record() { # FILE SURFACE BATCHING CONNECTIONS DATA PASS LINE
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" "$6" "$(tr ' ' '\t' <<<"$7")" >>"$1"
  local fields=($7)
  if [ "$2" = pgbench ]; then
    echo "  pass $6, pgbench ($3) at $4 connections ($5 chats): ${fields[0]} tps, PostgreSQL CPU ${fields[6]} ms per transaction" >&2
  else
    echo "  pass $6, $2 (service $3) at $4 connections ($5 chats): ${fields[0]} req/s, p99 ${fields[2]} ms, ${fields[3]} errors, service CPU ${fields[4]} ms/req, PostgreSQL CPU ${fields[6]} ms/req" >&2
  fi
}

# The rounds' rows (SURFACE BATCHING CONNECTIONS DATA PASS REQ/S P50 P99 ERRORS SVC-CPU RSS PG-CPU),
# each with its ratios in the same pass and connection count: requests/s over the job pgbench's
# transactions/s and over the service statement pgbench's, and the service CPU per request over
# the floor's on the same surface, and over the paced floor's ("-" where there is none).
with_ratios() { # FILE
  awk -F'\t' -v OFS='\t' '
    function ratio(a, b) { return (b > 0 && a != "-" ? sprintf("%.2f", a / b) : "-") }
    NR == FNR {
      if ($1 == "pgbench") tps[$2, $3, $5] = $6
      else if ($2 == "floor") floor_cpu[$1, $3, $5] = $10
      else if ($2 == "floor-paced") paced_cpu[$1, $3, $5] = $10
      next
    }
    { print $0, ratio($6, tps["job", $3, $5]), ratio($6, tps["statement", $3, $5]),
        ($1 == "pgbench" ? "-" : ratio($10, floor_cpu[$1, $3, $5])), ($1 == "pgbench" ? "-" : ratio($10, paced_cpu[$1, $3, $5])) }' "$1" "$1"
}

# The columns both tables share (the rounds' adds the pass before them, the medians' the passes
# after): first what a reader compares with the two limits, then the rest.
table_columns_header='| surface | service | connections | chats stored | requests/s | x job | x service statement | service CPU ms/request | x floor | x paced floor | PostgreSQL CPU ms/request | service RSS MB under load | p50 ms | p99 ms | errors |'
table_columns_rule='|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
# awk functions: the surface's label (pgbench's says which statement), its service, a ratio's cell.
table_labels='
  function surface(s, which) { return s != "pgbench" ? s : which == "job" ? "pgbench, job" : "pgbench, service statement" }
  function service(s, which) { return s == "pgbench" ? "-" : which }
  function times(r) { return r == "-" ? r : r "x" }'

# Every measured round, in the order run.
print_rounds() { # FILE
  echo "| pass |${table_columns_header#|}"
  echo "|---:|${table_columns_rule#|}"
  with_ratios "$1" | awk -F'\t' "$table_labels"'
    { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $5, surface($1, $2), service($1, $2), $3, $4,
        $6, times($13), times($14), $10, times($15), times($16), $12, $11, $7, $8, $9 }'
}

# The median of each column over the passes, per surface, service and connection count; errors
# are summed. The chats stored are those at the first pass.
print_medians() { # FILE
  echo "${table_columns_header% errors |} passes | errors (all passes) |"
  echo "$table_columns_rule---:|"
  with_ratios "$1" | awk -F'\t' "$table_labels"'
    function median(list,   n, v, i, j, t) {
      n = split(list, v, " ")
      if (n == 0 || v[1] == "-") return "-"
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]; v[j + 1] = t }
      if (n % 2) return v[(n + 1) / 2]
      # The mean of the middle two, with as many decimals as the values have.
      return sprintf("%." (match(v[n / 2], /\.[0-9]+$/) ? RLENGTH - 1 : 0) "f", (v[n / 2] + v[n / 2 + 1]) / 2)
    }
    {
      key = $1 SUBSEP $2 SUBSEP $3
      if (!(key in data)) { order[++keys] = key; data[key] = $4 }
      passes[key]++
      errors[key] += $9
      for (c = 6; c <= 16; c++) values[key, c] = values[key, c] " " $c
    }
    END {
      for (k = 1; k <= keys; k++) {
        key = order[k]; split(key, id, SUBSEP)
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d |\n", surface(id[1], id[2]), service(id[1], id[2]), id[3], data[key],
          median(values[key, 6]), times(median(values[key, 13])), times(median(values[key, 14])), median(values[key, 10]),
          times(median(values[key, 15])), times(median(values[key, 16])), median(values[key, 12]), median(values[key, 11]), median(values[key, 7]),
          median(values[key, 8]), passes[key], errors[key]
      }
    }'
}

# Each pgbench statement's PostgreSQL CPU per transaction in each pass, per connection count. A
# spread over 10 % between passes means the database was not in the same state for every round:
# the run is unfair. Prints UNFAIR lines for such counts and returns 1 when there is one.
check_pgbench_drift() { # FILE
  awk -F'\t' '
    $1 == "pgbench" { k = $2 " statement at " $3; if ($2 == "statement") k = "service statement at " $3
                      if (!(k in seen)) { seen[k] = 1; order[++n] = k }
                      list[k] = list[k] " " $12; if (!(k in lo) || $12 < lo[k]) lo[k] = $12; if ($12 > hi[k]) hi[k] = $12 }
    END {
      unfair = 0
      for (i = 1; i <= n; i++) {
        k = order[i]; drift = (lo[k] > 0 ? (hi[k] - lo[k]) / lo[k] * 100 : 0)
        verdict = (drift > 10 ? "UNFAIR" : "fair")
        if (drift > 10) unfair = 1
        printf "pgbench PostgreSQL CPU ms/transaction, %s connections, pass by pass:%s (spread %.1f %%: %s)\n", k, list[k], drift, verdict
      }
      exit unfair
    }' "$1"
}

# RSS every 30 s while REST runs for a long time: memory must stay flat after warm-up.
soak_rest() { # CONNECTIONS SECONDS
  echo "| seconds | service RSS MB |"
  echo "|---:|---:|"
  run_rest "$1" "$2" >"$work/soak.line" &
  local soak=$! elapsed=0
  while kill -0 "$soak" 2>/dev/null && [ "$elapsed" -le "$2" ]; do
    echo "| $elapsed | $(service_rss_mb) |"
    sleep 30
    elapsed=$(( elapsed + 30 ))
  done
  wait "$soak"
  echo
  echo "REST over ${2}s at $1 connections: $(cat "$work/soak.line") (req/s p50 p99 errors cpu-ms/req RSS-MB-midway postgres-cpu-ms/req)"
}

# Samples the service's stacks with perf while one surface runs, then prints where its CPU went by
# module and the hottest frames by self time. The service runs with DOTNET_PerfMapEnabled=1 in this
# mode, so perf names JIT-compiled .NET methods from /tmp/perf-PID.map. The recording stays in
# .local/bench-profile/ (gitignored) for `perf report -i` with other views.
profile_surface() { # LABEL RUN-FUNCTION CONNECTIONS SECONDS
  mkdir -p .local/bench-profile
  local data=".local/bench-profile/$1.perf.data"
  perf record -q -F 499 -g -p "$service_pid" -o "$data" -- sleep "$4" >/dev/null 2>&1 &
  local perf_pid=$!
  echo "$1 at $3 connections under perf: $("$2" "$3" "$4")" \
    "(req/s p50 p99 errors cpu-ms/req RSS-MB-under-load postgres-cpu-ms/req; perf's sampling adds its own cost)"
  wait "$perf_pid" || true
  echo "-- $1: the service's samples by module"
  perf report -i "$data" --no-children --sort dso --stdio -g none --percent-limit 1 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -n 1,20p
  echo "-- $1: hottest frames by self time"
  perf report -i "$data" --no-children --sort dso,symbol --stdio -g none --percent-limit 0.5 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -n 1,50p
}
