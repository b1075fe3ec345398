using System.Net;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;
using Neptun.Session;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// The session is unsealed once per call, however many parts of the pipeline ask about it (the
/// rate limiter, the session interceptor, the REST contract). Counted through the clock: an unseal
/// reads the time once, to check the seal's expiry, and nothing else reads this clock.
/// </summary>
public sealed class SessionReadOnceTests : IAsyncLifetime
{
    private readonly CountingClock _clock = new();
    private IsolatedService _service = null!;

    public async Task InitializeAsync() =>
        _service = await IsolatedService.StartAsync(
            testServices: services => services.AddSingleton(sp => new SessionReader(sp.GetRequiredService<IOptions<SessionReaderOptions>>().Value, _clock)));

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task A_rest_create_unseals_once()
    {
        var unseals = await CountUnsealsAsync(() => _service.Rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _service.ProjectId, Sessions.CookieFor(NeptunApiFixture.AdaId))), HttpStatusCode.Created);

        Assert.Equal(1, unseals);
    }

    [Fact]
    public async Task A_path_transcoding_refuses_unseals_once_to_choose_the_row()
    {
        var unseals = await CountUnsealsAsync(() => _service.Rest.SendAsync(ChatRequests.Create("ada", _service.ProjectId, Sessions.CookieFor(NeptunApiFixture.AdaId))), HttpStatusCode.BadRequest);

        Assert.Equal(1, unseals);
    }

    [Fact]
    public async Task A_native_grpc_create_unseals_once()
    {
        var client = _service.Factory.CreateChatClient();
        var request = new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _service.ProjectId, Model = NeptunApiFixture.ValidModel, Name = "Unsealed once" };
        var before = _clock.Reads;

        await client.CreateProjectChatAsync(request, new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } });

        Assert.Equal(1, _clock.Reads - before);
    }

    [Fact]
    public async Task A_call_without_a_session_unseals_nothing()
    {
        var unseals = await CountUnsealsAsync(() => _service.Rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _service.ProjectId, cookie: null)), HttpStatusCode.Unauthorized);

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
