using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// The service on real Kestrel sockets, configured the standard way (Kestrel__Endpoints__*): REST
/// over HTTP/1.1 on one port (curl with no extra flags), native gRPC over h2c on the other.
/// </summary>
public sealed class KestrelEndpointsTests : IAsyncLifetime
{
    private readonly int _restPort = TestPorts.Next();
    private readonly int _grpcPort = TestPorts.Next();
    private TestDatabase _database = null!;
    private ChatServiceFactory _factory = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _factory = new ChatServiceFactory(_database.ConnectionString, new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Rest:Url"] = $"http://127.0.0.1:{_restPort}",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{_grpcPort}",
        });
        _factory.UseKestrel();
        _factory.StartServer();
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        _projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/healthz/live")]
    [InlineData("/healthz/ready")]
    public async Task Probes_and_metrics_answer_on_the_operations_port_only_whatever_the_host_header_says(string path)
    {
        var operationsPort = _factory.OperationsPortNumber;
        using var operations = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{operationsPort}") };
        using var rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_restPort}") };

        Assert.Equal(HttpStatusCode.OK, (await operations.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rest.GetAsync(path)).StatusCode);
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, path);
        spoofed.Headers.Host = $"127.0.0.1:{operationsPort}";
        Assert.Equal(HttpStatusCode.NotFound, (await rest.SendAsync(spoofed)).StatusCode);
    }

    [Fact]
    public async Task The_operations_port_serves_no_public_route()
    {
        using var operations = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_factory.OperationsPortNumber}") };

        using var response = await operations.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, SessionVectors.CookieHeader("valid")));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, await NeptunRows.CountChatsAsync(_database));
    }

    [Fact]
    public async Task Rest_answers_http_1_1_on_its_port()
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_restPort}") };
        using var request = ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, SessionVectors.CookieHeader("valid"));
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
    }

    [Fact]
    public async Task Curl_with_no_extra_flags_gets_201()
    {
        var curl = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
            $"http://127.0.0.1:{_restPort}/api/users/{NeptunApiFixture.AdaId}/projects/{_projectId}/chats",
            "-H", "Content-Type: application/json",
            "-H", $"Cookie: {SessionVectors.CookieHeader("valid")}",
            "-d", """{"model": "google/gemma-2-27b-it", "name": "Project Discussion"}""",
        })
        {
            curl.ArgumentList.Add(argument);
        }

        using var process = Process.Start(curl)!;
        var status = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal("201", status);
    }

    [Fact]
    public async Task Native_grpc_answers_h2c_on_its_port()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_grpcPort}");
        var client = new ChatService.ChatServiceClient(channel);

        var reply = await client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = "google/gemma-2-27b-it", Name = "Over h2c" },
            new Metadata { { "cookie", SessionVectors.CookieHeader("valid") } });

        Assert.Equal(NeptunApiFixture.AdaId, reply.Chat.NeptunUserId);
        Assert.Equal(_projectId, (await NeptunRows.ReadChatAsync(_database, reply.Chat.Id)).ProjectId);
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}
