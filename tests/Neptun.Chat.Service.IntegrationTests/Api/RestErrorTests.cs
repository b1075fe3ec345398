using System.Net;
using System.Text.Json;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>The error table over REST, with the web app's documented error body, and nothing written.</summary>
public abstract class RestErrorContract(NeptunApiFixture api)
{
    [Theory]
    [MemberData(nameof(ErrorTable.Names), MemberType = typeof(ErrorTable))]
    public async Task Error_table_row(string caseName)
    {
        var errorCase = ErrorTable.Get(caseName, api);
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);

        using var response = await api.PostChatAsync(errorCase.Cookie, errorCase.UserId, errorCase.ProjectId, errorCase.JsonBody);

        await AssertErrorBody(response, errorCase.HttpStatus, errorCase.Message);
        Assert.Equal(chatsBefore, await NeptunRows.CountChatsAsync(api.Database));
    }

    [Fact]
    public async Task Body_errors_name_the_fields_under_data()
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, """{"model":"","name":"ab"}""");

        var body = await AssertErrorBody(response, 400, "Invalid body(model, name)");
        var fields = body.GetProperty("data").GetProperty("fieldViolations").EnumerateArray().Select(v => v.GetProperty("field").GetString()!).ToList();
        Assert.Equal(new List<string> { "model", "name" }, fields);
    }

    [Fact]
    public async Task The_documented_400_body_is_written_exactly()
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, "{not json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"statusCode":400,"statusMessage":"Bad Request","message":"Invalid body(model, name)"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task A_body_that_is_not_json_is_415(string contentType)
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, """{"model":"google/gemma-2-27b-it","name":"abc"}""", contentType);

        await AssertErrorBody(response, 415, "Content-Type must be application/json");
    }

    [Fact]
    public async Task Json_with_a_charset_is_json()
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
            """{"model":"google/gemma-2-27b-it","name":"With charset"}""", "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"model": 5, "name": "A name"}""")]
    [InlineData("""{"model": "google/gemma-2-27b-it", "name": ["A name"]}""")]
    [InlineData("""{"model": "google/gemma-2-27b-it", "name": {"a": 1}}""")]
    [InlineData("[]")]
    [InlineData("\"just a string\"")]
    public async Task A_body_the_transcoder_cannot_read_is_400_invalid_body(string body)
    {
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, body);

        await AssertErrorBody(response, 400, "Invalid body(model, name)");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("99999999999")]
    [InlineData("1.5")]
    public async Task A_path_id_that_is_not_an_int32_is_400_with_a_session(string userId)
    {
        using var response = await api.PostChatAsync(api.AdaCookie, userId, api.AdaProjectId, """{"model":"google/gemma-2-27b-it","name":"A name"}""");

        await AssertErrorBody(response, 400, "Invalid params(user_id, project_id)");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("99999999999")]
    public async Task A_path_id_that_is_not_an_int32_is_401_without_a_session(string projectId)
    {
        using var response = await api.PostChatAsync(null, NeptunApiFixture.AdaId, projectId, """{"model":"google/gemma-2-27b-it","name":"A name"}""");

        await AssertErrorBody(response, 401, "Unauthorized");
    }

    [Fact]
    public async Task A_failure_nobody_planned_for_is_500_with_no_detail()
    {
        await using var service = await IsolatedService.StartAsync();
        await service.Database.ExecuteAsync("ALTER TABLE project_chat_conversation RENAME TO project_chat_conversation_moved");

        using var response = await service.PostChatAsync();

        var body = await AssertErrorBody(response, 500, "Internal Server Error");
        Assert.DoesNotContain("project_chat_conversation", body.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, await NeptunRows.CountChatsAsync(service.Database));
    }

    internal static async Task<JsonElement> AssertErrorBody(HttpResponseMessage response, int status, string message)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(status, body.GetProperty("statusCode").GetInt32());
        Assert.Equal(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), body.GetProperty("statusMessage").GetString());
        Assert.Equal(message, body.GetProperty("message").GetString());
        Assert.All(body.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "statusCode", "statusMessage", "message", "data" }));
        return body.Clone();
    }
}

/// <summary>The contract above with the service connected straight to PostgreSQL.</summary>
public sealed class RestErrorTests(NeptunApiFixture api) : RestErrorContract(api), IClassFixture<NeptunApiFixture>;
