using System.Net;
using System.Text.Json;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>A database like production: another server time zone, rows and sequences already far along.</summary>
public sealed class ProductionDatabaseTests
{
    private const string Body = """{"model":"google/gemma-2-27b-it","name":"Production-like"}""";

    [Theory]
    [InlineData("Pacific/Kiritimati")]
    [InlineData("America/Los_Angeles")]
    public async Task A_server_in_another_time_zone_does_not_shift_the_times(string timeZone)
    {
        await using var service = await IsolatedService.StartAsync(serverTimeZone: timeZone);
        var database = service.Database;
        Assert.Equal(timeZone, await database.ScalarAsync<string>("SHOW TimeZone"));

        var before = DateTime.UtcNow.AddSeconds(-2);
        var chat = await CreateAsync(service);
        var after = DateTime.UtcNow.AddSeconds(2);

        var createdAt = DateTime.Parse(chat.GetProperty("created_at").GetString()!, null, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.InRange(createdAt, before, after);
        var stored = await NeptunRows.ReadChatAsync(database, chat.GetProperty("id").GetInt32());
        Assert.InRange(stored.CreatedAt, DateTime.SpecifyKind(before, DateTimeKind.Unspecified), DateTime.SpecifyKind(after, DateTimeKind.Unspecified));
        Assert.InRange(stored.LinkCreatedAt, DateTime.SpecifyKind(before, DateTimeKind.Unspecified), DateTime.SpecifyKind(after, DateTimeKind.Unspecified));
    }

    [Fact]
    public async Task Existing_rows_and_sequences_far_from_one_are_respected()
    {
        await using var service = await IsolatedService.StartAsync();
        var database = service.Database;
        await database.ExecuteAsync("SELECT setval('chat_conversation_id_seq', 1999999000)");
        await database.ExecuteAsync("""
            INSERT INTO chat_conversation (name, model, neptun_user_id) VALUES ('Old chat', 'ollama/rwkv-6-world', 123);
            INSERT INTO project_chat_conversation (project_id, chat_conversation_id) SELECT @ProjectId, max(id) FROM chat_conversation;
            """, new { ProjectId = service.ProjectId });

        var chat = await CreateAsync(service);

        Assert.Equal(1999999002, chat.GetProperty("id").GetInt32());
        Assert.Equal(2, await NeptunRows.CountChatsAsync(database));
        Assert.Equal("Old chat", await database.ScalarAsync<string>("SELECT name FROM chat_conversation WHERE id = 1999999001"));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(database));
    }

    [Fact]
    public async Task A_model_added_to_the_enum_while_running_is_accepted()
    {
        await using var service = await IsolatedService.StartAsync();
        const string newModel = "anthropic/claude-test";
        var body = JsonSerializer.Serialize(new { model = newModel, name = "New model" });

        using (var refused = await service.PostChatAsync(body))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        await service.Database.ExecuteAsync($"ALTER TYPE ai_model_enum ADD VALUE '{newModel}'");
        using var accepted = await service.PostChatAsync(body);

        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        var chat = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("chat");
        Assert.Equal(newModel, chat.GetProperty("model").GetString());
    }

    private static async Task<JsonElement> CreateAsync(IsolatedService service)
    {
        using var response = await service.PostChatAsync(Body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("chat").Clone();
    }
}
