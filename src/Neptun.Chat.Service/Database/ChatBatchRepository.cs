using Npgsql;
using NpgsqlTypes;

namespace Neptun.Chat.Service.Database;

/// <summary>What one create of a batch got from the batch statement.</summary>
public enum BatchOutcome
{
    /// <summary>The project is not the user's (or no longer exists): nothing was written for it.</summary>
    NotFound,

    /// <summary>The chat, its link and its request id record were written.</summary>
    Created,

    /// <summary>An earlier request with the same id created the chat; nothing was written.</summary>
    Replayed,

    /// <summary>
    /// Not decided in the batch: its request id expired but is still stored, or another request
    /// (another replica's) recorded the id while this statement ran. It must run alone.
    /// </summary>
    RunAlone,
}

/// <summary>A create's outcome in a batch; <see cref="Creation"/> is set when created or replayed.</summary>
public readonly record struct BatchedCreation(BatchOutcome Outcome, ChatCreation? Creation);

/// <summary>
/// Writes many creates as one statement: one round trip and one commit for all of them (group
/// commit). Each create keeps its own outcome, as <see cref="ChatRepository.CreateProjectChatAsync"/>
/// would have given it alone.
/// </summary>
public sealed class ChatBatchRepository(NpgsqlDataSource dataSource)
{
    // The requests come in as arrays, one element each, numbered by their position (ord). Constant
    // text, so that the statement is prepared once per connection whatever the batch's size.
    //
    // Chat ids are drawn from the chat table's own sequence up front, so that the request id
    // record (which keeps the chat it names) can be inserted before the chat: ON CONFLICT DO NOTHING
    // on it, and only the creates whose own record went in (matched by chat id) write a chat. A
    // request id that another transaction recorded while this one ran, or that a batch carries
    // twice, thus writes no second chat and fails no other create of the batch; it comes back as
    // 'run alone' and the caller's create then reads the chat of the request that recorded it.
    // Records go in ordered by key, so that two batches with the same ids cannot deadlock.
    // MATERIALIZED keeps each nextval() to one call per create. The lookups are LATERAL ... LIMIT 1
    // so that they stay index probes per create in the generic plan of the prepared statement,
    // whatever the tables' size was when it was planned (an empty request id table planned a hash
    // join over a full scan of it). Times are UTC, as in the single
    // statement; now() is one value for the whole statement, so the chat, its link, its record and
    // the reply agree.
    private const string CreateProjectChatsSql = """
        WITH request AS MATERIALIZED (
            SELECT *
            FROM unnest($1::integer[], $2::integer[], $3::text[], $4::text[], $5::uuid[], $6::bytea[])
                WITH ORDINALITY AS r(user_id, project_id, model, name, request_id, request_hash, ord)
        ), earlier_request AS MATERIALIZED (
            SELECT request.ord, k.request_hash = request.request_hash AS same_request, k.expires_at <= now() AS expired,
                   k.chat_id, k.chat_model, k.chat_name, k.chat_created_at, k.chat_updated_at
            FROM request
            CROSS JOIN LATERAL (
                SELECT * FROM neptun_chat_service.idempotency_key k
                WHERE k.user_id = request.user_id AND k.request_id = request.request_id
                LIMIT 1) AS k
            WHERE request.request_id IS NOT NULL
        ), owned AS MATERIALIZED (
            SELECT request.ord, request.user_id, request.project_id, request.model, request.name, request.request_id, request.request_hash,
                   nextval('public.chat_conversation_id_seq'::regclass)::integer AS chat_id
            FROM request
            CROSS JOIN LATERAL (
                SELECT 1 FROM public.neptun_user_project p
                WHERE p.id = request.project_id AND p.neptun_user_id = request.user_id
                LIMIT 1) AS owned_project
            WHERE NOT EXISTS (SELECT 1 FROM earlier_request WHERE earlier_request.ord = request.ord)
        ), recorded_request AS (
            INSERT INTO neptun_chat_service.idempotency_key
                (user_id, request_id, request_hash, chat_id, chat_model, chat_name, chat_created_at, chat_updated_at, expires_at)
            SELECT user_id, request_id, request_hash, chat_id, model, name, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() + $7
            FROM owned
            WHERE request_id IS NOT NULL
            ORDER BY user_id, request_id
            ON CONFLICT (user_id, request_id) DO NOTHING
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
               now() AT TIME ZONE 'UTC' AS created_at, now() AT TIME ZONE 'UTC' AS updated_at
        FROM creatable
        UNION ALL
        SELECT ord, CASE WHEN expired THEN 3 ELSE 2 END, same_request, chat_id, chat_model, chat_name, chat_created_at, chat_updated_at
        FROM earlier_request
        UNION ALL
        SELECT ord, 3, true, chat_id, model, name, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
        FROM owned
        WHERE NOT EXISTS (SELECT 1 FROM creatable WHERE creatable.ord = owned.ord)
        """;

    /// <summary>
    /// Runs <paramref name="chats"/> as one statement; the outcomes come back in the same order.
    /// Two creates with the same user and request id must not be in one batch.
    /// </summary>
    public async Task<BatchedCreation[]> CreateProjectChatsAsync(IReadOnlyList<NewProjectChat> chats, TimeSpan retention, CancellationToken cancellationToken)
    {
        var count = chats.Count;
        var userIds = new int[count];
        var projectIds = new int[count];
        var models = new string[count];
        var names = new string[count];
        var requestIds = new Guid?[count];
        var requestHashes = new byte[]?[count];
        for (var i = 0; i < count; i++)
        {
            var chat = chats[i];
            (userIds[i], projectIds[i], models[i], names[i], requestIds[i], requestHashes[i]) =
                (chat.UserId, chat.ProjectId, chat.Model, chat.Name, chat.RequestId, chat.RequestHash);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(CreateProjectChatsSql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<int[]> { TypedValue = userIds },
                new NpgsqlParameter<int[]> { TypedValue = projectIds },
                new NpgsqlParameter<string[]> { TypedValue = models },
                new NpgsqlParameter<string[]> { TypedValue = names },
                new NpgsqlParameter<Guid?[]> { TypedValue = requestIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                new NpgsqlParameter<byte[]?[]> { TypedValue = requestHashes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
                new NpgsqlParameter<TimeSpan> { TypedValue = retention },
            },
        };

        // A create with no row is one whose project is not the user's.
        var outcomes = new BatchedCreation[count];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var index = (int)reader.GetInt64(0) - 1;
            var outcome = (BatchOutcome)reader.GetInt32(1);
            var chat = new ChatRecord(
                reader.GetInt32(3),
                userIds[index],
                reader.GetString(4),
                reader.GetString(5),
                DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc),
                DateTime.SpecifyKind(reader.GetDateTime(7), DateTimeKind.Utc));
            outcomes[index] = new BatchedCreation(outcome, new ChatCreation(chat, outcome == BatchOutcome.Replayed, reader.GetBoolean(2)));
        }

        return outcomes;
    }
}
