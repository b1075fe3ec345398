using System.Net;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Limits;

/// <summary>Each signed-in user has a budget of requests per window; over it, 429 / RESOURCE_EXHAUSTED and nothing written.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private const int PermitLimit = 3;
    private readonly NeptunApiFixture _api = new()
    {
        Settings = new Dictionary<string, string?>
        {
            ["RateLimiting:PermitLimit"] = PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimiting:WindowSeconds"] = "120",
        },
    };

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Over_the_limit_rest_gets_429_with_retry_after_grpc_gets_resource_exhausted_and_other_users_go_on()
    {
        const string body = """{"model": "google/gemma-2-27b-it", "name": "Rate limited"}""";
        for (var i = 0; i < PermitLimit; i++)
        {
            using var allowed = await _api.PostChatAsync(_api.AdaCookie, NeptunApiFixture.AdaId, _api.AdaProjectId, body);
            Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        }

        var chats = await NeptunRows.CountChatsAsync(_api.Database);
        using var refused = await _api.PostChatAsync(_api.AdaCookie, NeptunApiFixture.AdaId, _api.AdaProjectId, body);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 120);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(429, error.GetProperty("statusCode").GetInt32());
        Assert.Equal("Too Many Requests", error.GetProperty("statusMessage").GetString());

        // A fresh seal of the same user is the same budget.
        var grpc = _api.Factory.CreateChatClient();
        var request = new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = "Rate limited" };
        var failure = await Assert.ThrowsAsync<RpcException>(() =>
            grpc.CreateProjectChatAsync(request, new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, failure.StatusCode);
        Assert.Equal(chats, await NeptunRows.CountChatsAsync(_api.Database));

        using var grace = await _api.PostChatAsync(Sessions.CookieFor(NeptunApiFixture.GraceId), NeptunApiFixture.GraceId, _api.GraceProjectId, body);
        Assert.Equal(HttpStatusCode.Created, grace.StatusCode);
    }

    [Fact]
    public async Task Callers_without_a_session_are_not_counted_against_anyone_and_still_get_401()
    {
        for (var i = 0; i < PermitLimit * 3; i++)
        {
            using var anonymous = await _api.PostChatAsync(null, NeptunApiFixture.AdaId, _api.AdaProjectId, """{"model": "x", "name": "abc"}""");
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var grace = await _api.PostChatAsync(Sessions.CookieFor(NeptunApiFixture.GraceId), NeptunApiFixture.GraceId, _api.GraceProjectId,
            """{"model": "google/gemma-2-27b-it", "name": "Still allowed"}""");
        Assert.Equal(HttpStatusCode.Created, grace.StatusCode);
    }
}
