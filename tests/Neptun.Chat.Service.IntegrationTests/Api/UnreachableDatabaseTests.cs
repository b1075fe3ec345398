using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>An unreachable database is 503 / UNAVAILABLE, quickly, and only after the session check.</summary>
public sealed class UnreachableDatabaseTests : IAsyncLifetime
{
    private readonly ChatServiceFactory _factory = UnreachableDatabase.CreateFactory();

    [Fact]
    public async Task Rest_answers_503()
    {
        using var client = _factory.CreateClient();
        using var request = ChatRequests.Create(NeptunApiFixture.AdaId, 1, SessionVectors.CookieHeader("valid"));

        using var response = await client.SendAsync(request);

        await RestErrorContract.AssertErrorBody(response, 503, "Service Unavailable");
    }

    [Fact]
    public async Task Grpc_answers_unavailable()
    {
        var client = _factory.CreateChatClient();

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = 123, ProjectId = 1, Model = "google/gemma-2-27b-it", Name = "A name" },
            new Metadata { { "cookie", SessionVectors.CookieHeader("valid") } }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Without_a_session_it_is_still_401()
    {
        var client = _factory.CreateChatClient();

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = 123, ProjectId = 1, Model = "google/gemma-2-27b-it", Name = "A name" }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
