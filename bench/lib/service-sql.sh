# Sourced by the benchmarks: the service's own create statement as a pgbench script, so that
# pgbench always runs exactly what the service runs.

# The service's statement, taken from its source, with pgbench variables for the ids and the
# literal model and name that the load generators send. They send no Idempotency-Key, so the
# request id and its hash are NULL, as the service binds them then.
write_pgbench_script() { # REPOSITORY_CS OUTPUT [USER_EXPRESSION PROJECT_EXPRESSION]
  {
    echo "\\set user ${3:-random(1, 1000)}"
    echo "\\set project ${4:-(:user - 1) * 5 + random(1, 5)}"
    sed -n '/CreateProjectChatSql = """/,/^ *""";/p' "$1" | sed '1d;$d' \
      | sed -e 's/@ProjectId/:project/g' -e 's/@UserId/:user/g' \
            -e "s|@Name|'Benchmark chat'|g" -e "s|@Model|'google/gemma-2-27b-it'|g" \
            -e 's/@RequestId/NULL::uuid/g' -e 's/@RequestHash/NULL::bytea/g' -e "s/@Retention/interval '24 hours'/g"
    echo ';'
  } >"$2"
  if grep -q '@' "$2"; then
    echo "bench: a parameter of the service's SQL has no pgbench value: $(grep -o '@[A-Za-z]*' "$2" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
}
