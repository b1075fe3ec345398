using System.Data;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Neptun.Chat.Service.Database;

/// <summary>
/// Writes creates into the web app's tables (and request ids into the service's own) with one
/// statement, whether one create or a batch of many: one round trip for the statement, one for the
/// commit. Each create keeps its own outcome, as if it had been written alone, and no create's data
/// can fail the statement for the others.
/// </summary>
public sealed class ChatRepository(NpgsqlDataSource dataSource, ILogger<ChatRepository> logger)
{
    // How long the service may spend finding out whether a commit it lost sight of happened.
    private static readonly TimeSpan CommitCheckBudget = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CommitCheckPause = TimeSpan.FromMilliseconds(50);

    // The requests come in as arrays, one element each, numbered by their position (ord). Constant
    // text, so that the statement is prepared once per connection whatever the batch's size.
    //
    // Chat ids are drawn from the chat table's own sequence up front, so that the request id
    // record (which keeps the chat it names) can be inserted before the chat: only a create whose
    // own record went in writes a chat. A record that has expired but is not purged yet is taken
    // over (DO UPDATE ... WHERE expired); one that another transaction wrote while this statement
    // ran is left alone, and its create comes back as 'run again' to read that chat. Records go in
    // ordered by key, so that two batches with the same ids cannot deadlock. MATERIALIZED keeps each
    // nextval() to one call per create. The lookups are LATERAL ... LIMIT 1 so that they stay index
    // probes in the generic plan of the prepared statement, whatever the tables' size was when it
    // was planned. No create's data can fail the statement for the others: the ownership lookup
    // locks the user's row, then the project's (FOR KEY SHARE, the lock the foreign keys take
    // anyway, in the order a user's deletion takes them), so that one deleted meanwhile is not
    // found rather than a foreign key error; and only a model the enum has is cast to it. Times are
    // UTC (the tables store zone-less UTC); now() is one value for the whole transaction, so the
    // chat, its link, its record and the reply agree. The transaction id and the server's start
    // time come back with every created chat: if the commit's answer is lost, they and the chat
    // ids tell what happened, on that same server.
    private const string CreateProjectChatsSql = $"""
        WITH request AS MATERIALIZED (
            SELECT r.*, EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
                                WHERE e.enumtypid = 'public.ai_model_enum'::regtype AND e.enumlabel = r.model) AS known_model
            FROM unnest($1::integer[], $2::integer[], $3::text[], $4::text[], $5::uuid[], $6::bytea[])
                WITH ORDINALITY AS r(user_id, project_id, model, name, request_id, request_hash, ord)
        ), earlier_request AS MATERIALIZED (
            SELECT request.ord, k.request_hash = request.request_hash AS same_request,
                   k.chat_id, k.chat_model, k.chat_name, k.chat_created_at, k.chat_updated_at
            FROM request
            CROSS JOIN LATERAL (
                SELECT * FROM {DatabaseMigrator.ServiceSchema}.idempotency_key k
                WHERE k.user_id = request.user_id AND k.request_id = request.request_id AND k.expires_at > now()
                LIMIT 1) AS k
            WHERE request.request_id IS NOT NULL AND request.known_model
        ), owned AS MATERIALIZED (
            SELECT request.ord, request.user_id, request.project_id, request.model, request.name, request.request_id, request.request_hash,
                   nextval('public.chat_conversation_id_seq'::regclass)::integer AS chat_id
            FROM request
            CROSS JOIN LATERAL (
                SELECT u.id FROM public.neptun_user u
                WHERE u.id = request.user_id
                LIMIT 1 FOR KEY SHARE) AS owner
            CROSS JOIN LATERAL (
                SELECT 1 FROM public.neptun_user_project p
                WHERE p.id = request.project_id AND p.neptun_user_id = owner.id
                LIMIT 1 FOR KEY SHARE) AS owned_project
            WHERE request.known_model AND NOT EXISTS (SELECT 1 FROM earlier_request WHERE earlier_request.ord = request.ord)
        ), recorded_request AS (
            INSERT INTO {DatabaseMigrator.ServiceSchema}.idempotency_key AS k
                (user_id, request_id, request_hash, chat_id, chat_model, chat_name, chat_created_at, chat_updated_at, expires_at)
            SELECT user_id, request_id, request_hash, chat_id, model, name, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() + $7
            FROM owned
            WHERE request_id IS NOT NULL
            ORDER BY user_id, request_id
            ON CONFLICT (user_id, request_id) DO UPDATE
                SET request_hash = excluded.request_hash, chat_id = excluded.chat_id, chat_model = excluded.chat_model,
                    chat_name = excluded.chat_name, chat_created_at = excluded.chat_created_at,
                    chat_updated_at = excluded.chat_updated_at, expires_at = excluded.expires_at
                WHERE k.expires_at <= now()
            RETURNING chat_id
        ), creatable AS MATERIALIZED (
            SELECT owned.ord, owned.user_id, owned.project_id, owned.model, owned.name, owned.chat_id
            FROM owned
            WHERE owned.request_id IS NULL
               OR EXISTS (SELECT 1 FROM recorded_request WHERE recorded_request.chat_id = owned.chat_id)
        ), created_chat AS (
            INSERT INTO public.chat_conversation (id, name, model, neptun_user_id, created_at, updated_at)
            SELECT chat_id, name, model::public.ai_model_enum, user_id, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
            FROM creatable
        ), project_link AS (
            INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id, created_at)
            SELECT project_id, chat_id, now() AT TIME ZONE 'UTC'
            FROM creatable
        )
        SELECT ord, 1 AS outcome, true AS same_request, chat_id, model, name,
               now() AT TIME ZONE 'UTC' AS created_at, now() AT TIME ZONE 'UTC' AS updated_at,
               pg_current_xact_id() AS xid, pg_postmaster_start_time() AS server_started
        FROM creatable
        UNION ALL
        SELECT ord, 2, same_request, chat_id, chat_model, chat_name, chat_created_at, chat_updated_at, NULL, NULL
        FROM earlier_request
        UNION ALL
        SELECT ord, 3, true, chat_id, model, name, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', NULL, NULL
        FROM owned
        WHERE NOT EXISTS (SELECT 1 FROM creatable WHERE creatable.ord = owned.ord)
        UNION ALL
        SELECT ord, 4, true, 0, model, name, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', NULL, NULL
        FROM request
        WHERE NOT request.known_model
        """;

    // After a lost commit, on a new connection: which server answers, whether the transaction still
    // runs there, and how many of its chats are stored. The transaction id is only asked of the
    // server that issued it (on another it may name somebody else's transaction, or none yet).
    private const string CommitOutcomeSql = """
        SELECT pg_postmaster_start_time() = $1 AS same_server,
               CASE WHEN pg_postmaster_start_time() = $1 THEN pg_xact_status($2) END AS status,
               (SELECT count(*) FROM public.chat_conversation c WHERE c.id = ANY($3) AND c.created_at = $4) AS stored
        """;

    /// <summary>
    /// Runs <paramref name="chats"/> as one statement in one transaction; the results come back in
    /// the same order. Two creates with the same user and request id must not be in one statement.
    /// Throws only when nothing was written and no COMMIT was sent (the statement failed, or the
    /// token fired, or the writer gave up through <paramref name="commitGate"/>); once the COMMIT
    /// is sent, every way out is a result: created, rolled back, or unknown.
    /// </summary>
    public async Task<StatementResult[]> CreateProjectChatsAsync(
        IReadOnlyList<NewProjectChat> chats, TimeSpan retention, CommitGate commitGate, CancellationToken cancellationToken)
    {
        // A create with no row is one whose project is not the user's.
        var results = new StatementResult[chats.Count];
        WrittenBy? written = null;
        Exception lost;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            // Explicit, so that a statement cut off by the deadline or a lost connection is never
            // committed: only the COMMIT's own round trip can leave the outcome in doubt.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var rows = await connection.QueryRowsAsync<CreatedRow>(new CommandDefinition(
                CreateProjectChatsSql, new CreateProjectChatsParameters(chats, retention), transaction, cancellationToken: cancellationToken));
            foreach (var row in rows)
            {
                var index = (int)row.Ord - 1;
                var chat = new ChatRecord(
                    row.ChatId,
                    chats[index].UserId,
                    row.Model,
                    row.Name,
                    DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc),
                    DateTime.SpecifyKind(row.UpdatedAt, DateTimeKind.Utc));
                results[index] = new StatementResult(row.Outcome, new ReturnedChat(chat, row.Outcome == StatementOutcome.Replayed, row.SameRequest));
                if (row.Xid is { } xid)
                {
                    written ??= new WrittenBy(xid, row.ServerStarted!.Value, row.CreatedAt);
                }
            }

            // Nothing written: no COMMIT needed, and none can be lost.
            if (written is null)
            {
                return results;
            }

            // A deadline that passed while the rows were read ends here, before anything is sent.
            cancellationToken.ThrowIfCancellationRequested();
            if (!commitGate.TryCommit())
            {
                throw new OperationCanceledException("The writer gave up on the statement before its COMMIT.");
            }

            try
            {
                // Not cancelled by the deadline: a cancelled wait for a synchronous standby is
                // reported committed, maybe not replicated. The writer stops waiting for it instead.
                await transaction.CommitAsync(CancellationToken.None);
                return results;
            }
            catch (PostgresException exception) when (!SqlStates.IsAboutTheServer(exception.SqlState))
            {
                // The server answered the COMMIT with an error of the transaction itself: rolled back.
                return WithCreated(results, StatementOutcome.RolledBack);
            }
            catch (Exception exception)
            {
                // Whatever broke (the connection, the data source at shutdown), the answer is lost.
                lost = exception;
            }
        }

        // The connection is closed now, so the transaction can no longer commit later on its
        // account; find out what it wrote.
        int[] chatIds = [.. results.Where(r => r.Outcome == StatementOutcome.Created).Select(r => r.Creation!.Chat.Id)];
        var committed = await WasCommittedAsync(written, chatIds);
        Log.CommitOutcomeChecked(logger, lost.GetType().Name, committed switch { true => "committed", false => "rolled back", null => "unknown" });
        return WithCreated(results, committed switch { true => StatementOutcome.Created, false => StatementOutcome.RolledBack, null => StatementOutcome.Unknown });
    }

    private static StatementResult[] WithCreated(StatementResult[] results, StatementOutcome created) =>
        Array.ConvertAll(results, r => r.Outcome == StatementOutcome.Created ? r with { Outcome = created } : r);

    /// <summary>
    /// Whether the statement's chats are stored: true or false when its transaction ended, on the
    /// server that ran it, with all of them or none; else null once the budget is spent.
    /// </summary>
    internal async Task<bool?> WasCommittedAsync(WrittenBy written, int[] chatIds)
    {
        using var budget = DatabaseCancellation.After(CommitCheckBudget);

        // The database may be failing right now (that is how the answer was lost): ask again
        // until the budget is spent.
        while (!budget.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(budget.Token);
                await using var command = new NpgsqlCommand(CommitOutcomeSql, connection)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<DateTime> { TypedValue = written.ServerStarted, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                        new NpgsqlParameter<ulong> { TypedValue = written.TransactionId, NpgsqlDbType = NpgsqlDbType.Xid8 },
                        new NpgsqlParameter<int[]> { TypedValue = chatIds },
                        new NpgsqlParameter<DateTime> { TypedValue = written.CreatedAt, NpgsqlDbType = NpgsqlDbType.Timestamp },
                    },
                };
                await using var reader = await command.ExecuteReaderAsync(budget.Token);
                await reader.ReadAsync(budget.Token);
                // Otherwise still committing (a synchronous standby's wait), or not visible yet: ask again.
                var status = reader.GetBoolean(0) ? reader.GetString(1) : null;
                var stored = reader.GetInt64(2);
                if (status is null || (status == "aborted" && stored == 0) || (status == "committed" && stored == chatIds.Length))
                {
                    return status is null ? null : stored > 0;
                }
            }
            catch (Exception)
            {
                // Not reachable yet, or not a primary (yet): ask again within the budget.
            }

            await Task.Delay(CommitCheckPause, CancellationToken.None);
        }

        return null;
    }

    // The create statement's parameters, handed to Dapper as one object that adds them itself:
    // positional ($1 to $7) and typed, so that Dapper reflects over nothing, no value is boxed, and
    // Npgsql has no names to rewrite: the text it prepares is the constant itself.
    private sealed class CreateProjectChatsParameters(IReadOnlyList<NewProjectChat> chats, TimeSpan retention) : SqlMapper.IDynamicParameters
    {
        public void AddParameters(IDbCommand command, SqlMapper.Identity identity)
        {
            var parameters = ((NpgsqlCommand)command).Parameters;
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. chats.Select(c => c.UserId)] });
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. chats.Select(c => c.ProjectId)] });
            parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. chats.Select(c => c.Model)] });
            parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. chats.Select(c => c.Name)] });
            parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = [.. chats.Select(c => c.RequestId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            parameters.Add(new NpgsqlParameter<byte[]?[]> { TypedValue = [.. chats.Select(c => c.RequestHash)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = retention });
        }
    }

    // One row of the create statement, which Dapper fills through this constructor: its parameters
    // are named after the statement's columns, in their order.
    private sealed class CreatedRow(
        long ord, StatementOutcome outcome, bool same_request, int chat_id, string model, string name,
        DateTime created_at, DateTime updated_at, ulong? xid, DateTime? server_started)
    {
        public long Ord { get; } = ord;
        public StatementOutcome Outcome { get; } = outcome;
        public bool SameRequest { get; } = same_request;
        public int ChatId { get; } = chat_id;
        public string Model { get; } = model;
        public string Name { get; } = name;
        public DateTime CreatedAt { get; } = created_at;
        public DateTime UpdatedAt { get; } = updated_at;
        public ulong? Xid { get; } = xid;
        public DateTime? ServerStarted { get; } = server_started;
    }
}

/// <summary>
/// Dapper's own QueryAsync reads with <see cref="CommandBehavior.SequentialAccess"/> and maps a row
/// with Npgsql's synchronous getters, which then read the socket synchronously when the row has
/// not arrived whole: a thread blocked on the network, and, with socket completions run inline, the
/// I/O thread waiting for itself (the service stopped answering at 64 connections). Here Npgsql
/// reads each row whole (ReadAsync, without sequential access) and Dapper maps it from memory.
/// </summary>
internal static class BufferedRows
{
    public static async Task<List<T>> QueryRowsAsync<T>(this NpgsqlConnection connection, CommandDefinition command)
    {
        await using var reader = await connection.ExecuteReaderAsync(command, CommandBehavior.Default);
        // The untyped parser, which Dapper also gives for a single column of a plain type (string).
        var parse = reader.GetRowParser(typeof(T));
        var rows = new List<T>();
        while (await reader.ReadAsync(command.CancellationToken))
        {
            rows.Add((T)parse(reader));
        }

        return rows;
    }
}

/// <summary>What the create statement did for one create.</summary>
public enum StatementOutcome
{
    /// <summary>The project is not the user's (or no longer exists): nothing was written for it.</summary>
    NotFound,

    /// <summary>The chat, its link and its request id record are stored (committed).</summary>
    Created,

    /// <summary>An earlier request with the same id created the chat; nothing was written.</summary>
    Replayed,

    /// <summary>
    /// Another transaction recorded the same request id while this statement ran: nothing was
    /// written, and a new statement will read what that one created.
    /// </summary>
    RunAgain,

    /// <summary>The model is not (or no longer) a value of the enum: nothing was written for it.</summary>
    UnknownModel,

    /// <summary>The statement would have created it, but its transaction did not commit: nothing is stored.</summary>
    RolledBack,

    /// <summary>The connection was lost while the commit was under way, and asking the database did not tell.</summary>
    Unknown,
}

/// <summary>One create's outcome; <see cref="Creation"/> is set for created and replayed chats.</summary>
public readonly record struct StatementResult(StatementOutcome Outcome, ReturnedChat? Creation);

/// <summary>
/// Decides once, between a statement's COMMIT being sent and its writer giving up on it (a server
/// that does not answer): a writer that gave up may tell its callers that nothing was written.
/// </summary>
public sealed class CommitGate
{
    private const int Open = 0;
    private const int Committing = 1;
    private const int GivenUp = 2;
    private int _state;

    /// <summary>True when the COMMIT may be sent: nobody gave up on the statement.</summary>
    public bool TryCommit() => Interlocked.CompareExchange(ref _state, Committing, Open) == Open;

    /// <summary>True when no COMMIT was sent, nor ever will be.</summary>
    public bool TryGiveUp() => Interlocked.CompareExchange(ref _state, GivenUp, Open) == Open || HasGivenUp;

    /// <summary>True once the writer gave up: nothing of the statement is or will be stored.</summary>
    public bool HasGivenUp => Volatile.Read(ref _state) == GivenUp;
}

/// <summary>
/// What identifies a statement's writing after its connection is gone: its transaction, the start
/// of the server process that ran it (another start is another server, or the same one restarted),
/// and its chats' creation time, which a chat id handed out again after a crash would not share.
/// </summary>
internal sealed record WrittenBy(ulong TransactionId, DateTime ServerStarted, DateTime CreatedAt);

/// <summary>
/// A chat to create. <paramref name="RequestId"/> and <paramref name="RequestHash"/> are both set
/// for an idempotent create, or both null.
/// </summary>
public sealed record NewProjectChat(int UserId, int ProjectId, string Model, string Name, Guid? RequestId, byte[]? RequestHash);

/// <summary>
/// The chat a create returned. <paramref name="Replayed"/>: an earlier request with the same id
/// created it; <paramref name="SameRequest"/>: that earlier request asked for the same thing.
/// </summary>
public sealed record ReturnedChat(ChatRecord Chat, bool Replayed, bool SameRequest);

/// <summary>A row of <c>chat_conversation</c> as the create statement returns it; times are UTC.</summary>
public sealed record ChatRecord(int Id, int NeptunUserId, string Model, string Name, DateTime CreatedAt, DateTime UpdatedAt);
