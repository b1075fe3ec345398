# Sourced by the benchmarks: the two pgbench scripts, for one create each. The job's minimal
# statement is the limit a user compares the service against; the service's own statement, cut
# from its source, is exactly what the service runs (and does more than the job needs).

# The model and name the load generators send (bench/rest.lua, the gRPC body of LoadSetup.cs).
bench_model='google/gemma-2-27b-it'
bench_chat_name='Benchmark chat'

# The same users and projects as the load generators: a random user, one of that user's five projects.
pgbench_variables() { # [USER_EXPRESSION PROJECT_EXPRESSION]
  echo "\\set user ${1:-random(1, 1000)}"
  echo "\\set project ${2:-(:user - 1) * 5 + random(1, 5)}"
}

# The job, as the web app's handler does it, in one statement: the project must be the user's,
# then the chat and its link are inserted and the chat is returned. The columns get what the
# service writes (the id from the sequence, zone-less UTC times); no request id, no locks beyond
# the foreign keys' own.
write_job_pgbench_script() { # OUTPUT
  {
    pgbench_variables
    cat <<SQL
WITH owned_project AS (
    SELECT p.id FROM public.neptun_user_project p WHERE p.id = :project AND p.neptun_user_id = :user
), created_chat AS (
    INSERT INTO public.chat_conversation (name, model, neptun_user_id, created_at, updated_at)
    SELECT '$bench_chat_name', '$bench_model'::public.ai_model_enum, :user, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM owned_project
    RETURNING id, neptun_user_id, model, name, created_at, updated_at
), project_link AS (
    INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id, created_at)
    SELECT :project, id, now() AT TIME ZONE 'UTC' FROM created_chat
)
SELECT id, neptun_user_id, model, name, created_at, updated_at FROM created_chat;
SQL
  } >"$1"
}

# The service's own schema, as DatabaseMigrator.cs beside the repository names it.
service_schema() { # REPOSITORY_CS
  sed -n 's/.*const string ServiceSchema = "\([a-z_]*\)";.*/\1/p' "$(dirname "$1")/DatabaseMigrator.cs"
}

# The service's statement, taken from its source, for one create (arrays of one element), with
# pgbench variables for the ids and the literal model and name that the load generators send.
# They send no Idempotency-Key, so the request id and its hash are NULL, as the service binds
# them then. pgbench runs it as one implicit transaction; the service sends the same statement
# in an explicit one (BEGIN with the statement, then COMMIT): pgbench's way is the cheaper.
write_pgbench_script() { # REPOSITORY_CS OUTPUT [USER_EXPRESSION PROJECT_EXPRESSION]
  {
    pgbench_variables "${3:-}" "${4:-}"
    sed -n '/CreateProjectChatsSql = \$\?"""/,/^ *""";/p' "$1" | sed '1d;$d' \
      | sed -e "s/{DatabaseMigrator.ServiceSchema}/$(service_schema "$1")/g" \
      | sed -e 's/\$1::/ARRAY[:user]::/' -e 's/\$2::/ARRAY[:project]::/' \
            -e "s/\\\$3::/ARRAY['${bench_model//\//\\/}']::/" -e "s/\\\$4::/ARRAY['$bench_chat_name']::/" \
            -e 's/\$5::/ARRAY[NULL::uuid]::/' -e 's/\$6::/ARRAY[NULL::bytea]::/' -e 's/\$7/interval \x2724 hours\x27/'
    echo ';'
  } >"$2"
  if ! grep -q 'INSERT INTO public.chat_conversation' "$2"; then
    echo "bench: no CreateProjectChatsSql statement found in $1" >&2
    exit 1
  fi
  if grep -qE '\$[0-9]' "$2"; then
    echo "bench: a parameter of the service's SQL has no pgbench value: $(grep -oE '\$[0-9]+' "$2" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
}
