using Dapper;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>Rows a test needs in the web app's tables, inserted as the web app would.</summary>
public static class NeptunRows
{
    public static Task<int> InsertUserAsync(TestDatabase database, int? id = null) =>
        database.ScalarAsync<int>(
            id is null
                ? "INSERT INTO neptun_user (primary_email) VALUES (@Email) RETURNING id"
                : "INSERT INTO neptun_user (id, primary_email) VALUES (@Id, @Email) RETURNING id",
            new { Id = id, Email = $"user-{Guid.NewGuid():N}@example.com" });

    public static Task<int> InsertProjectAsync(TestDatabase database, int userId) =>
        database.ScalarAsync<int>(
            "INSERT INTO neptun_user_project (name, type, main_language, neptun_user_id) VALUES ('A project', 'web-app', 'typescript', @UserId) RETURNING id",
            new { UserId = userId });

    public static Task<long> CountChatsAsync(TestDatabase database) => database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation");

    public static Task<long> CountLinksAsync(TestDatabase database) => database.ScalarAsync<long>("SELECT count(*) FROM project_chat_conversation");

    /// <summary>Chats without a project link, or links without a chat: never allowed.</summary>
    public static Task<long> CountOrphansAsync(TestDatabase database) => database.ScalarAsync<long>("""
        SELECT (SELECT count(*) FROM chat_conversation c WHERE NOT EXISTS (SELECT 1 FROM project_chat_conversation l WHERE l.chat_conversation_id = c.id))
             + (SELECT count(*) FROM project_chat_conversation l WHERE NOT EXISTS (SELECT 1 FROM chat_conversation c WHERE c.id = l.chat_conversation_id))
        """);

    public static async Task<StoredChat> ReadChatAsync(TestDatabase database, int chatId)
    {
        await using var connection = await database.OpenAsync();
        return await connection.QuerySingleAsync<StoredChat>("""
            SELECT c.id AS "Id", c.neptun_user_id AS "NeptunUserId", c.model::text AS "Model", c.name AS "Name",
                   c.created_at AS "CreatedAt", c.updated_at AS "UpdatedAt",
                   l.project_id AS "ProjectId", l.created_at AS "LinkCreatedAt"
            FROM chat_conversation c JOIN project_chat_conversation l ON l.chat_conversation_id = c.id
            WHERE c.id = @ChatId
            """, new { ChatId = chatId });
    }
}

/// <summary>A chat and its link as stored; the zone-less times come back with Kind Unspecified.</summary>
public sealed record StoredChat(int Id, int NeptunUserId, string Model, string Name, DateTime CreatedAt, DateTime UpdatedAt, int ProjectId, DateTime LinkCreatedAt);
