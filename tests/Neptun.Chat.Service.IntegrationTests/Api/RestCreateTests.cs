using System.Net;
using System.Text.Json;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>The documented 201 over REST, checked against what was stored.</summary>
public abstract class RestCreateContract(NeptunApiFixture api)
{
    [Fact]
    public async Task Creates_the_chat_and_its_link_and_answers_201_with_the_documented_body()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
            """{"model": "google/gemma-2-27b-it", "name": "Project Discussion"}""");
        var after = DateTime.UtcNow.AddSeconds(1);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["chat"], root.EnumerateObject().Select(p => p.Name));
        var chat = root.GetProperty("chat");
        Assert.Equal(["id", "neptun_user_id", "model", "name", "created_at", "updated_at"], chat.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, chat.GetProperty("id").ValueKind);
        Assert.Equal(JsonValueKind.Number, chat.GetProperty("neptun_user_id").ValueKind);
        Assert.EndsWith("Z", chat.GetProperty("created_at").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("Z", chat.GetProperty("updated_at").GetString(), StringComparison.Ordinal);

        var id = chat.GetProperty("id").GetInt32();
        var createdAt = DateTime.Parse(chat.GetProperty("created_at").GetString()!, null, System.Globalization.DateTimeStyles.RoundtripKind);
        var updatedAt = DateTime.Parse(chat.GetProperty("updated_at").GetString()!, null, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.Equal(DateTimeKind.Utc, createdAt.Kind);
        Assert.InRange(createdAt, before, after);

        var stored = await NeptunRows.ReadChatAsync(api.Database, id);
        Assert.Equal(NeptunApiFixture.AdaId, chat.GetProperty("neptun_user_id").GetInt32());
        Assert.Equal(NeptunApiFixture.AdaId, stored.NeptunUserId);
        Assert.Equal("google/gemma-2-27b-it", chat.GetProperty("model").GetString());
        Assert.Equal("google/gemma-2-27b-it", stored.Model);
        Assert.Equal("Project Discussion", chat.GetProperty("name").GetString());
        Assert.Equal("Project Discussion", stored.Name);
        Assert.Equal(stored.CreatedAt, DateTime.SpecifyKind(createdAt, DateTimeKind.Unspecified));
        Assert.Equal(stored.UpdatedAt, DateTime.SpecifyKind(updatedAt, DateTimeKind.Unspecified));
        Assert.Equal(api.AdaProjectId, stored.ProjectId);
        Assert.Equal(stored.CreatedAt, stored.LinkCreatedAt);
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_and_path_values_win_over_the_body()
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
            $$"""{"model": "qwen/Qwen2.5-72B-Instruct", "name": "Extra fields", "colour": "blue", "user_id": {{NeptunApiFixture.GraceId}}, "project_id": {{api.GraceProjectId}}}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var chat = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("chat");
        var stored = await NeptunRows.ReadChatAsync(api.Database, chat.GetProperty("id").GetInt32());
        Assert.Equal(NeptunApiFixture.AdaId, stored.NeptunUserId);
        Assert.Equal(api.AdaProjectId, stored.ProjectId);
    }

    [Theory]
    [InlineData("O'Brien's <b>chat</b> & \"co\"")]
    [InlineData("'; DROP TABLE chat_conversation; --")]
    [InlineData("%s %n {0} ${name}")]
    [InlineData("Émile \U0001F680 שלום مرحبا e\u0301")]
    public async Task Names_round_trip_exactly_and_plain_characters_stay_plain(string name)
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
            JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.DoesNotContain("\\u0027", text, StringComparison.Ordinal);
        var chat = JsonDocument.Parse(text).RootElement.GetProperty("chat");
        Assert.Equal(name, chat.GetProperty("name").GetString());
        Assert.Equal(name, (await NeptunRows.ReadChatAsync(api.Database, chat.GetProperty("id").GetInt32())).Name);
    }

    [Fact]
    public async Task A_name_of_256_utf16_units_is_accepted()
    {
        var name = string.Concat(Enumerable.Repeat("\U0001F600", 128));
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
            JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task The_session_header_of_h3_is_read_too()
    {
        var seal = Sessions.SealFor(NeptunApiFixture.AdaId);
        using var request = ChatRequests.Create(NeptunApiFixture.AdaId, api.AdaProjectId, cookie: null);
        request.Headers.Add("x-neptun-session-session", seal);

        using var response = await api.Rest.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("valid")]
    [InlineData("valid-among-other-cookies")]
    [InlineData("valid-expiration-in-2099")]
    [InlineData("valid-rotated-password-id-k2")]
    public async Task Cookies_sealed_by_the_web_app_are_accepted(string vector)
    {
        using var response = await api.PostChatAsync(SessionVectors.CookieHeader(vector), NeptunApiFixture.AdaId, api.AdaProjectId,
            """{"model":"google/gemma-2-27b-it","name":"From a web app cookie"}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}

/// <summary>The contract above with the service connected straight to PostgreSQL.</summary>
public sealed class RestCreateTests(NeptunApiFixture api) : RestCreateContract(api), IClassFixture<NeptunApiFixture>;
