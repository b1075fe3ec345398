using Dapper;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>Writes chats into the web app's tables.</summary>
public sealed class ChatRepository(NpgsqlDataSource dataSource)
{
    // One statement, so one round trip and one implicit transaction: the ownership check, the chat
    // and its project link succeed or fail together. No row comes back when the project is not the
    // user's. Times are taken in UTC explicitly rather than from the columns' now() defaults.
    private const string CreateProjectChatSql = """
        WITH owned_project AS (
            SELECT id
            FROM public.neptun_user_project
            WHERE id = @ProjectId AND neptun_user_id = @UserId
        ), created_chat AS (
            INSERT INTO public.chat_conversation (name, model, neptun_user_id, created_at, updated_at)
            SELECT @Name, @Model::public.ai_model_enum, @UserId, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
            FROM owned_project
            RETURNING id, neptun_user_id, model, name, created_at, updated_at
        ), project_link AS (
            INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id, created_at)
            SELECT owned_project.id, created_chat.id, created_chat.created_at
            FROM owned_project CROSS JOIN created_chat
        )
        SELECT id AS "Id", neptun_user_id AS "NeptunUserId", model::text AS "Model", name AS "Name",
               created_at AS "CreatedAt", updated_at AS "UpdatedAt"
        FROM created_chat
        """;

    /// <summary>Creates the chat and its link, or returns null when the project is not the user's.</summary>
    public async Task<ChatRecord?> CreateProjectChatAsync(int userId, int projectId, string model, string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var command = new CommandDefinition(
            CreateProjectChatSql,
            new { UserId = userId, ProjectId = projectId, Model = model, Name = name },
            cancellationToken: cancellationToken);
        var chat = await connection.QuerySingleOrDefaultAsync<ChatRecord>(command);
        return chat is null ? null : chat with
        {
            CreatedAt = DateTime.SpecifyKind(chat.CreatedAt, DateTimeKind.Utc),
            UpdatedAt = DateTime.SpecifyKind(chat.UpdatedAt, DateTimeKind.Utc),
        };
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
}
