# Sourced by the benchmarks: the service's own create statement as a pgbench script, so that
# pgbench always runs exactly what the service runs.

# The service's statement, taken from its source, for one create (arrays of one element), with
# pgbench variables for the ids and the literal model and name that the load generators send.
# They send no Idempotency-Key, so the request id and its hash are NULL, as the service binds
# them then. pgbench runs it as one implicit transaction; the service sends the same statement
# in an explicit one (BEGIN with the statement, then COMMIT): pgbench's way is the cheaper.
# The service's own schema, as DatabaseMigrator.cs beside the repository names it.
service_schema() { # REPOSITORY_CS
  sed -n 's/.*const string ServiceSchema = "\([a-z_]*\)";.*/\1/p' "$(dirname "$1")/DatabaseMigrator.cs"
}

write_pgbench_script() { # REPOSITORY_CS OUTPUT [USER_EXPRESSION PROJECT_EXPRESSION]
  {
    echo "\\set user ${3:-random(1, 1000)}"
    echo "\\set project ${4:-(:user - 1) * 5 + random(1, 5)}"
    sed -n '/CreateProjectChatsSql = \$\?"""/,/^ *""";/p' "$1" | sed '1d;$d' \
      | sed -e "s/{DatabaseMigrator.ServiceSchema}/$(service_schema "$1")/g" \
      | sed -e 's/\$1::/ARRAY[:user]::/' -e 's/\$2::/ARRAY[:project]::/' \
            -e 's/\$3::/ARRAY[\x27google\/gemma-2-27b-it\x27]::/' -e 's/\$4::/ARRAY[\x27Benchmark chat\x27]::/' \
            -e 's/\$5::/ARRAY[NULL::uuid]::/' -e 's/\$6::/ARRAY[NULL::bytea]::/' -e 's/\$7/interval \x2724 hours\x27/'
    echo ';'
  } >"$2"
  if grep -qE '\$[0-9]' "$2"; then
    echo "bench: a parameter of the service's SQL has no pgbench value: $(grep -oE '\$[0-9]+' "$2" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
}
