using Dapper;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>Writes chats into the web app's tables, and the request ids of idempotent creates into the service's own.</summary>
public sealed class ChatRepository(NpgsqlDataSource dataSource)
{
    private const string UniqueViolation = "23505";
    private const string RequestIdKey = "idempotency_key_pkey";

    // One statement, so one round trip and one implicit transaction: the ownership check, the chat,
    // its project link and the request id record succeed or fail together. No row comes back when the
    // project is not the user's. A request id already recorded for this user turns the statement into
    // a read of what the first request created. Two requests with one id at once both insert; the
    // later one fails on the primary key, writes nothing, and is run again to read the first one's
    // chat. Times are taken in UTC explicitly rather than from the columns' now() defaults.
    private const string CreateProjectChatSql = """
        WITH earlier_request AS (
            SELECT request_hash, chat_id, chat_model, chat_name, chat_created_at, chat_updated_at, expires_at
            FROM neptun_chat_service.idempotency_key
            WHERE user_id = @UserId AND request_id = @RequestId
        ), owned_project AS (
            SELECT id
            FROM public.neptun_user_project
            WHERE id = @ProjectId AND neptun_user_id = @UserId AND NOT EXISTS (SELECT 1 FROM earlier_request)
        ), created_chat AS (
            INSERT INTO public.chat_conversation (name, model, neptun_user_id, created_at, updated_at)
            SELECT @Name, @Model::public.ai_model_enum, @UserId, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
            FROM owned_project
            RETURNING id, neptun_user_id, model, name, created_at, updated_at
        ), project_link AS (
            INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id, created_at)
            SELECT owned_project.id, created_chat.id, created_chat.created_at
            FROM owned_project CROSS JOIN created_chat
        ), recorded_request AS (
            INSERT INTO neptun_chat_service.idempotency_key
                (user_id, request_id, request_hash, chat_id, chat_model, chat_name, chat_created_at, chat_updated_at, expires_at)
            SELECT @UserId, @RequestId, @RequestHash, id, model::text, name, created_at, updated_at, now() + @Retention
            FROM created_chat
            WHERE @RequestId IS NOT NULL
        )
        SELECT false AS "Replayed", true AS "SameRequest", false AS "Expired",
               id AS "Id", neptun_user_id AS "NeptunUserId", model::text AS "Model", name AS "Name",
               created_at AS "CreatedAt", updated_at AS "UpdatedAt"
        FROM created_chat
        UNION ALL
        SELECT true, request_hash = @RequestHash, expires_at <= now(),
               chat_id, @UserId, chat_model, chat_name, chat_created_at, chat_updated_at
        FROM earlier_request
        """;

    private const string DeleteExpiredRequestSql = """
        DELETE FROM neptun_chat_service.idempotency_key
        WHERE user_id = @UserId AND request_id = @RequestId AND expires_at <= now()
        """;

    private const string PurgeExpiredRequestsSql = """
        DELETE FROM neptun_chat_service.idempotency_key
        WHERE ctid IN (SELECT ctid FROM neptun_chat_service.idempotency_key WHERE expires_at <= now() LIMIT @BatchSize)
        """;

    /// <summary>
    /// Creates the chat and its link, or returns what an earlier request with the same id created,
    /// or null when the project is not the user's.
    /// </summary>
    public async Task<ChatCreation?> CreateProjectChatAsync(NewProjectChat chat, TimeSpan retention, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            chat.UserId,
            chat.ProjectId,
            chat.Model,
            chat.Name,
            chat.RequestId,
            chat.RequestHash,
            Retention = retention,
        };

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        // Attempts: the first; one after losing a race on the request id; one after clearing an
        // expired record of it that the purge has not reached yet.
        for (var attempt = 1; ; attempt++)
        {
            CreationRow? row;
            try
            {
                row = await connection.QuerySingleOrDefaultAsync<CreationRow>(
                    new CommandDefinition(CreateProjectChatSql, parameters, cancellationToken: cancellationToken));
            }
            catch (PostgresException exception) when (exception is { SqlState: UniqueViolation, ConstraintName: RequestIdKey } && attempt < 3)
            {
                continue;
            }

            if (row is { Expired: true } && attempt < 3)
            {
                await connection.ExecuteAsync(new CommandDefinition(DeleteExpiredRequestSql, parameters, cancellationToken: cancellationToken));
                continue;
            }

            return row is null ? null : row.ToCreation();
        }
    }

    /// <summary>Deletes up to <paramref name="batchSize"/> expired request id records; returns how many.</summary>
    public async Task<int> PurgeExpiredRequestsAsync(int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(PurgeExpiredRequestsSql, new { BatchSize = batchSize }, cancellationToken: cancellationToken));
    }

    /// <summary>Reads the values of <c>ai_model_enum</c>, which the web app extends over time.</summary>
    public async Task<IReadOnlyList<string>> ReadAiModelsAsync(CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT e.enumlabel
            FROM pg_catalog.pg_enum e
            JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
            JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' AND t.typname = 'ai_model_enum'
            ORDER BY e.enumsortorder
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var models = await connection.QueryAsync<string>(new CommandDefinition(sql, cancellationToken: cancellationToken));
        return models.AsList();
    }

    private sealed record CreationRow(
        bool Replayed, bool SameRequest, bool Expired, int Id, int NeptunUserId, string Model, string Name, DateTime CreatedAt, DateTime UpdatedAt)
    {
        public ChatCreation ToCreation() => new(
            new ChatRecord(Id, NeptunUserId, Model, Name, DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc), DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc)),
            Replayed,
            SameRequest);
    }
}
