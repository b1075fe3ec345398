using System.Net;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.Session;
using Neptun.Chat.V1;
using Neptun.Session;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// The web app seals its sessions without an expiry; the service refuses one older than the web
/// app's own 7 days unless configured otherwise, on both surfaces.
/// </summary>
public sealed class SessionMaxAgeTests : IAsyncLifetime
{
    private readonly NeptunApiFixture _api = new()
    {
        // The fixture lifts the maximum age for the web app's old sealed vectors: back to the default.
        Settings = new Dictionary<string, string?> { ["Session:MaxAgeSeconds"] = null },
    };

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Theory]
    [InlineData(-60, HttpStatusCode.Created, StatusCode.OK)]
    [InlineData(+60, HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    public async Task A_session_older_than_seven_days_is_refused_and_a_younger_one_is_not(int secondsPastMaxAge, HttpStatusCode rest, StatusCode grpc)
    {
        var createdAt = DateTimeOffset.UtcNow.AddSeconds(-(NeptunSessionServiceCollectionExtensions.DefaultMaxAgeSeconds + secondsPastMaxAge));
        var cookie = $"{SessionReaderOptions.CookieName}={IronSealer.SealSession(new SessionUser(NeptunApiFixture.AdaId, null), SessionVectors.Password, createdAt)}";

        using var response = await _api.PostChatAsync(cookie, NeptunApiFixture.AdaId, _api.AdaProjectId, ChatRequests.ValidBody);
        Assert.Equal(rest, response.StatusCode);

        var call = _api.Factory.CreateChatClient().CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = "Max age" },
            new Metadata { { "cookie", cookie } });
        if (grpc == StatusCode.OK)
        {
            Assert.True((await call.ResponseAsync).Chat.Id > 0);
        }
        else
        {
            Assert.Equal(grpc, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode);
        }
    }
}
