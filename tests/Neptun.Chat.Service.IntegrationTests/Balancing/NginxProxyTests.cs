using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
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

    [Fact]
    public async Task Nginx_answers_paths_outside_the_API_itself_and_passes_health_and_reflection_through()
    {
        using var rest = new HttpClient { BaseAddress = _proxy.RestAddress };
        using var channel = GrpcChannel.ForAddress(_proxy.GrpcAddress);
        var postsBefore = (await _replicas.ServedAsync(0, PostRequests)).Sum();

        // REST: the OpenAPI document, the API page, the operations port's paths, and neighbours of
        // the route. Only POSTs are counted by the replicas below (their probes and scrapes are GETs).
        foreach (var path in new[] { "/openapi/v1.json", "/api-docs", "/healthz/ready", "/metrics", "/api/users/1/projects/1", "/api/users/1/projects/1/chats/2", "/api/users/1/projects/1/chatsx" })
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
            {
                using var response = await rest.SendAsync(new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? new StringContent("{}") : null });
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
            }
        }

        // gRPC: services and methods the service does not publish through nginx get UNIMPLEMENTED.
        var requests = Marshallers.Create((HealthCheckRequest message) => message.ToByteArray(), HealthCheckRequest.Parser.ParseFrom);
        var replies = Marshallers.Create((HealthCheckResponse message) => message.ToByteArray(), HealthCheckResponse.Parser.ParseFrom);
        foreach (var (service, name) in new[] { ("neptun.chat.v1.Other", "Create"), ("grpc.reflection.v1.Other", "List"), ("grpc.health.v2.Health", "Check"), ("neptun.chat.v1", "ChatService") })
        {
            var unknown = new Method<HealthCheckRequest, HealthCheckResponse>(MethodType.Unary, service, name, requests, replies);
            var refused = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), new HealthCheckRequest()).ResponseAsync);
            Assert.True(refused.StatusCode == StatusCode.Unimplemented, $"{unknown.FullName}: {refused.Status}");
        }

        // None of it reached a replica (waiting up to 5 s for a count that would show one).
        Assert.Equal(postsBefore, (await _replicas.ServedAsync((int)postsBefore + 1, PostRequests)).Sum());

        // Health and reflection (v1 and v1alpha) are proxied: callers and grpcurl find them here.
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = ChatService.Descriptor.FullName }, deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        using (var reflection = new Grpc.Reflection.V1.ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30)))
        {
            await reflection.RequestStream.WriteAsync(new Grpc.Reflection.V1.ServerReflectionRequest { ListServices = "" });
            await reflection.RequestStream.CompleteAsync();
            Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Contains(ChatService.Descriptor.FullName, reflection.ResponseStream.Current.ListServicesResponse.Service.Select(service => service.Name));
        }

        using (var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30)))
        {
            await reflection.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
            await reflection.RequestStream.CompleteAsync();
            Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Contains(ChatService.Descriptor.FullName, reflection.ResponseStream.Current.ListServicesResponse.Service.Select(service => service.Name));
        }
    }

    [Fact]
    public async Task Nginx_refuses_a_flood_from_one_address_on_both_surfaces_while_another_address_is_served()
    {
        const int OtherCreates = 20;
        var cookie = Sessions.CookieFor(NeptunApiFixture.AdaId);
        var postsBefore = (await _replicas.ServedAsync(0, PostRequests)).Sum();

        // REST: creates without a cookie from 127.0.0.2, meanwhile a user's creates from 127.0.0.3,
        // one after the other, every one of which must succeed.
        using var flooder = new HttpClient(NginxProxy.HandlerFrom(IPAddress.Parse("127.0.0.2"))) { BaseAddress = _proxy.RestAddress };
        using var other = new HttpClient(NginxProxy.HandlerFrom(IPAddress.Parse("127.0.0.3"))) { BaseAddress = _proxy.RestAddress };
        var otherDone = false;
        var restFlood = FloodAsync(outcomes => Volatile.Read(ref otherDone) && outcomes.ContainsKey("nginx 429"), async () =>
        {
            using var response = await flooder.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, cookie: null));
            // nginx's refusal is its own page; the service's answers are JSON.
            return $"{(response.Content.Headers.ContentType?.MediaType == "text/html" ? "nginx" : "service")} {(int)response.StatusCode}";
        });
        try
        {
            for (var i = 0; i < OtherCreates; i++)
            {
                using var response = await other.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, cookie));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
        }
        finally
        {
            Volatile.Write(ref otherDone, true);
        }

        var rest = await restFlood;
        Figures.Report(output, $"nginx limit_req, REST: {Describe(rest)} from one address; {OtherCreates} of {OtherCreates} creates from another");
        Assert.True(rest.GetValueOrDefault("nginx 429") > 0, Describe(rest));
        Assert.All(rest.Keys, outcome => Assert.Contains(outcome, new[] { "nginx 429", "service 401", "service 429" }));
        Assert.Equal(OtherCreates, await NeptunRows.CountChatsAsync(_database));

        // gRPC: creates without a cookie from 127.0.0.4 on one channel; nginx's refusal is
        // RESOURCE_EXHAUSTED with its own message.
        using var channel = GrpcChannel.ForAddress(_proxy.GrpcAddress, new GrpcChannelOptions { HttpHandler = NginxProxy.HandlerFrom(IPAddress.Parse("127.0.0.4")) });
        var client = new ChatService.ChatServiceClient(channel);
        var grpc = await FloodAsync(outcomes => outcomes.ContainsKey("nginx ResourceExhausted"), async () =>
        {
            try
            {
                await client.CreateProjectChatAsync(
                    new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = NeptunApiFixture.ValidModel, Name = "No cookie" },
                    deadline: DateTime.UtcNow.AddSeconds(60));
                return "service OK";
            }
            catch (RpcException refused)
            {
                return $"{(refused.Status.Detail == "too many requests from this address" ? "nginx" : "service")} {refused.StatusCode}";
            }
        });
        Figures.Report(output, $"nginx limit_req, gRPC: {Describe(grpc)} from one address");
        Assert.True(grpc.GetValueOrDefault("nginx ResourceExhausted") > 0, Describe(grpc));
        Assert.All(grpc.Keys, outcome => Assert.Contains(outcome, new[] { "nginx ResourceExhausted", "service Unauthenticated", "service ResourceExhausted" }));

        // What nginx refused never reached a replica: they saw the rest of both floods and the creates.
        var passed = rest.Values.Sum() - rest["nginx 429"] + grpc.Values.Sum() - grpc["nginx ResourceExhausted"] + OtherCreates;
        Assert.Equal(postsBefore + passed, (await _replicas.ServedAsync((int)postsBefore + passed, PostRequests)).Sum());
    }

    /// <summary>The most calls a flood sends: far more than the burst nginx answers at once (400)
    /// and the seconds of its rate (200/s) that a flood of 32 callers lasts here.</summary>
    private const int FloodCap = 5000;

    /// <summary>
    /// <paramref name="call"/> from 32 callers at once until <paramref name="enough"/> says so (or
    /// <see cref="FloodCap"/> calls); the count of each outcome.
    /// </summary>
    private static async Task<ConcurrentDictionary<string, int>> FloodAsync(Func<ConcurrentDictionary<string, int>, bool> enough, Func<Task<string>> call)
    {
        var outcomes = new ConcurrentDictionary<string, int>();
        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            while (!enough(outcomes) && Interlocked.Increment(ref sent) <= FloodCap)
            {
                var outcome = await call();
                outcomes.AddOrUpdate(outcome, 1, (_, count) => count + 1);
            }
        })));
        return outcomes;
    }

    private static string Describe(ConcurrentDictionary<string, int> outcomes) =>
        $"{string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Value} {o.Key}"))} of {outcomes.Values.Sum()}";

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

    /// <summary>The replicas' count of POST requests: every call and create, none of their probes or scrapes.</summary>
    private const string PostRequests = "http_request_method=\"POST\"";

    // Four callers at a time, unless told.
    private static Task ForEachAsync(int count, Func<int, Task> call) => ForEachAsync(count, 4, call);

    private static Task ForEachAsync(int count, int callers, Func<int, Task> call)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
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
