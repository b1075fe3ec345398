using System.Net;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Tests.Infrastructure;
using Neptun.Chat.V1;
using Neptun.Session;

namespace Neptun.Chat.Service.Tests.Api;

/// <summary>
/// The session is unsealed once per call, however many parts of the pipeline ask about it (the
/// rate limiter, the session interceptor, the REST contract). Counted through the clock: an unseal
/// reads the time once, to check the seal's expiry, and nothing else reads this clock.
/// </summary>
public sealed class SessionReadOnceTests : IAsyncLifetime
{
    private readonly CountingClock _clock = new();
    private TestDatabase _database = null!;
    private ChatServiceFactory _factory = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _factory = new ChatServiceFactory(_database.ConnectionString)
        {
            TestServices = services => services.AddSingleton(sp => new SessionReader(sp.GetRequiredService<IOptions<SessionReaderOptions>>().Value, _clock)),
        };
        _factory.StartServer();
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        _projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_rest_create_unseals_once()
    {
        using var rest = _factory.CreateClient();

        var unseals = await CountUnsealsAsync(() => rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, Sessions.CookieFor(NeptunApiFixture.AdaId))), HttpStatusCode.Created);

        Assert.Equal(1, unseals);
    }

    [Fact]
    public async Task A_path_transcoding_refuses_unseals_once_to_choose_the_row()
    {
        using var rest = _factory.CreateClient();

        var unseals = await CountUnsealsAsync(() => rest.SendAsync(ChatRequests.Create("ada", _projectId, Sessions.CookieFor(NeptunApiFixture.AdaId))), HttpStatusCode.BadRequest);

        Assert.Equal(1, unseals);
    }

    [Fact]
    public async Task A_native_grpc_create_unseals_once()
    {
        var client = _factory.CreateChatClient();
        var request = new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = NeptunApiFixture.ValidModel, Name = "Unsealed once" };
        var before = _clock.Reads;

        await client.CreateProjectChatAsync(request, new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } });

        Assert.Equal(1, _clock.Reads - before);
    }

    [Fact]
    public async Task A_call_without_a_session_unseals_nothing()
    {
        using var rest = _factory.CreateClient();

        var unseals = await CountUnsealsAsync(() => rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, cookie: null)), HttpStatusCode.Unauthorized);

        Assert.Equal(0, unseals);
    }

    private async Task<int> CountUnsealsAsync(Func<Task<HttpResponseMessage>> send, HttpStatusCode expected)
    {
        var before = _clock.Reads;
        using var response = await send();
        Assert.Equal(expected, response.StatusCode);
        return _clock.Reads - before;
    }

    private sealed class CountingClock : TimeProvider
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override DateTimeOffset GetUtcNow()
        {
            Interlocked.Increment(ref _reads);
            return base.GetUtcNow();
        }
    }
}
