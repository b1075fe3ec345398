using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Neptun.Chat.Service.IntegrationTests.Api;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Balancing;

/// <summary>
/// deploy/nginx/neptun-chat.conf, run by Debian's nginx in front of two replicas (processes of
/// their own) on one database: one client connection through it, REST and native gRPC, and each
/// replica's share read from its own metrics, as an operator would see it.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class NginxProxyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Calls = 200;
    private TwoReplicas _replicas = null!;
    private NginxProxy _proxy = null!;
    private int _projectId;
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _replicas = await TwoReplicas.StartAsync();
        (_database, _projectId) = (_replicas.Database, _replicas.ProjectId);
        _proxy = await NginxProxy.StartAsync(_replicas.Replicas);
    }

    [Fact]
    public async Task Nginx_spreads_REST_and_gRPC_creates_over_both_replicas_per_request_and_passes_cookies_keys_and_errors_through()
    {
        var cookie = Sessions.CookieFor(NeptunApiFixture.AdaId);

        // REST: one client, so few connections to nginx; a few requests at a time. Each carries its
        // Idempotency-Key, which the replica must see: the same key once more returns the same chat.
        using var rest = new HttpClient { BaseAddress = _proxy.RestAddress };
        var restKeys = Enumerable.Range(0, Calls).Select(_ => Guid.NewGuid()).ToArray();
        var restChats = new string[Calls];
        await ForEachAsync(Calls, async i =>
        {
            using var request = ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, cookie);
            request.Headers.Add("Idempotency-Key", restKeys[i].ToString());
            using var response = await rest.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}{Environment.NewLine}{_proxy.ErrorLog}");
            restChats[i] = body;
        });
        using (var again = ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, cookie))
        {
            again.Headers.Add("Idempotency-Key", restKeys[0].ToString());
            using var response = await rest.SendAsync(again);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal(Id(restChats[0]), Id(await response.Content.ReadAsStringAsync()));
        }

        // Native gRPC: one channel, so one HTTP/2 connection to nginx, which picks a replica per call.
        using var channel = GrpcChannel.ForAddress(_proxy.GrpcAddress);
        var client = new ChatService.ChatServiceClient(channel);
        var metadata = new Metadata { { "cookie", cookie } };
        await ForEachAsync(Calls, async _ => await client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = NeptunApiFixture.ValidModel, Name = "Through nginx", RequestId = Guid.NewGuid().ToString() },
            metadata,
            DateTime.UtcNow.AddSeconds(60)));

        // Every create, and its repeat none, is a row.
        Assert.Equal(2 * Calls, await NeptunRows.CountChatsAsync(_database));

        // Each replica's share of each surface: REST creates answer 201, native gRPC ones 200 (as do
        // gRPC's errors, counted after this). The
        // repeated key was a 201 too, so REST counts one more.
        var restServed = await _replicas.ServedAsync(Calls + 1, "http_response_status_code=\"201\"");
        var grpcServed = await _replicas.ServedAsync(Calls, "CreateProjectChat", "http_response_status_code=\"200\"");
        Figures.Report(output, $"nginx over 2 replicas: REST {string.Join(" and ", restServed)} of {Calls + 1}, gRPC {string.Join(" and ", grpcServed)} of {Calls} creates");
        Assert.Equal(Calls + 1, restServed.Sum());
        Assert.Equal(Calls, grpcServed.Sum());
        Assert.All(restServed, count => Assert.InRange(count, 0.3 * Calls, 0.7 * Calls));
        Assert.All(grpcServed, count => Assert.InRange(count, 0.3 * Calls, 0.7 * Calls));

        // Errors pass through unchanged: the web app's 401 body over REST, UNAUTHENTICATED over gRPC.
        using (var response = await rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, cookie: null)))
        {
            await RestErrorContract.AssertErrorBody(response, 401, "Unauthorized");
        }

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = NeptunApiFixture.ValidModel, Name = "No cookie" },
            deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(2 * Calls, await NeptunRows.CountChatsAsync(_database));
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_replicas is not null)
        {
            await _replicas.DisposeAsync();
        }
    }

    // Four callers at a time.
    private static Task ForEachAsync(int count, Func<int, Task> call)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await call(i);
            }
        })));
    }

    private static int Id(string chat) => System.Text.Json.JsonDocument.Parse(chat).RootElement.GetProperty("chat").GetProperty("id").GetInt32();
}
