# Sourced by bench/run.sh (after bench/lib/service-sql.sh): one function per load generator, each printing one line
#   REQUESTS_PER_S P50_MS P99_MS ERRORS SERVICE_CPU_MS_PER_REQUEST SERVICE_PEAK_RSS_MB POSTGRES_CPU_MS_PER_REQUEST
# and the table. Uses run.sh's variables: work, service_pid, rest_port, grpc_port, tools, postmaster_pid.

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

wait_until_ready() { # URL
  for _ in $(seq 1 120); do
    if curl -fs "$1" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$service_pid" 2>/dev/null; then
      echo "bench: the service stopped:" >&2; tail -n 30 "$work"/service-*.log >&2; exit 1
    fi
    sleep 0.5
  done
  echo "bench: the service did not become ready" >&2; exit 1
}

run_pgbench() { # CONNECTIONS SECONDS
  rm -f "$work"/pgbench_log.*
  local out="$work/pgbench.out" pg_before pg_after
  pg_before=$(postgres_cpu_ticks)
  pgbench -n -M prepared -c "$1" -j "$(threads_for "$1")" -T "$2" -f "$work/create-chat.sql" \
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

run_rest() { # CONNECTIONS SECONDS
  local before after out="$work/wrk.out" pg_before pg_after
  pg_before=$(postgres_cpu_ticks)
  before=$(service_cpu_ticks)
  wrk -t "$(threads_for "$1")" -c "$1" -d "${2}s" -s bench/rest.lua "http://127.0.0.1:$rest_port" >"$out" 2>&1 \
    || { cat "$out" >&2; exit 1; }
  after=$(service_cpu_ticks)
  pg_after=$(postgres_cpu_after)
  local line requests duration p50 p99 errors
  line=$(grep '^RESULT ' "$out") || { cat "$out" >&2; exit 1; }
  requests=$(grep -oP 'requests=\K[0-9]+' <<<"$line")
  duration=$(grep -oP 'duration_us=\K[0-9]+' <<<"$line")
  p50=$(grep -oP 'p50_us=\K[0-9]+' <<<"$line")
  p99=$(grep -oP 'p99_us=\K[0-9]+' <<<"$line")
  errors=$(grep -oP 'errors=\K[0-9]+' <<<"$line")
  awk -v n="$requests" -v d="$duration" -v p50="$p50" -v p99="$p99" -v e="$errors" \
    -v cpu="$(cpu_ms_per_request "$before" "$after" "$requests")" -v rss="$(service_peak_rss_mb)" \
    -v pg="$(cpu_ms_per_request "$pg_before" "$pg_after" "$requests")" \
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
  for i in $(seq 1 "$processes"); do
    local user=$(( i * 97 )) per=$(( $1 / processes + (i <= $1 % processes ? 1 : 0) ))
    [ -f "$work/grpc-body.$user" ] || tools grpc-body "$user" $(( (user - 1) * 5 + 1 )) "$work/grpc-body.$user"
    h2load -c "$per" -t 1 -m 1 -D "$2" -d "$work/grpc-body.$user" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      -H "cookie: neptun-session=$(sed -n "${user}p" "$work/cookies")" \
      --log-file="$work/h2load_log.$i" \
      "http://127.0.0.1:$grpc_port/neptun.chat.v1.ChatService/CreateProjectChat" >"$work/h2load.out.$i" 2>&1 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || { cat "$work"/h2load.out.* >&2; exit 1; }; done
  after=$(service_cpu_ticks)
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
  [ "$missing" -gt 0 ] || missing=0
  echo "$(awk -v n="$done" -v s="$2" 'BEGIN { printf "%.0f", n / s }') \
$(cat "$work"/h2load_log.* | awk '{ print $3 }' | percentiles_ms) $(( failed + missing )) \
$(cpu_ms_per_request "$before" "$after" "$done") $(service_peak_rss_mb) \
$(cpu_ms_per_request "$pg_before" "$pg_after" "$done")"
}

# Appends one row: SURFACE BATCHING CONNECTIONS DATA then the measured line and the ratio to pgbench's req/s.
record() { # FILE SURFACE BATCHING CONNECTIONS DATA LINE PGBENCH_LINE
  local ratio
  ratio=$(awk -v a="${6%% *}" -v b="${7%% *}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" "$(tr ' ' '\t' <<<"$6")" "$ratio" >>"$1"
  echo "  $2 (batching $3) at $4 connections ($5 chats): $6 (x$ratio of pgbench)" >&2
}

print_table() { # FILE
  echo "| surface | batching | connections | chats stored | requests/s | p50 ms | p99 ms | errors | service CPU ms/request | PostgreSQL CPU ms/request | service peak RSS MB | ratio to pgbench |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %sx |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10, $12 }' "$1"
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
  echo "REST over ${2}s at $1 connections: $(cat "$work/soak.line") (req/s p50 p99 errors cpu-ms/req peak-RSS-MB postgres-cpu-ms/req)"
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
    "(req/s p50 p99 errors cpu-ms/req peak-RSS-MB postgres-cpu-ms/req; perf's sampling adds its own cost)"
  wait "$perf_pid" || true
  echo "-- $1: the service's samples by module"
  perf report -i "$data" --no-children --sort dso --stdio -g none --percent-limit 1 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -n 1,20p
  echo "-- $1: hottest frames by self time"
  perf report -i "$data" --no-children --sort dso,symbol --stdio -g none --percent-limit 0.5 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -n 1,50p
}
