using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Balancing;

/// <summary>
/// deploy/nginx/neptun-chat.conf tells the replicas who the client is: X-Forwarded-For is the
/// address nginx saw, whatever the client wrote in it, on both surfaces. The replicas here are a
/// stand-in on Kestrel that answers with the headers it received, since the service itself trusts
/// the header only from its configured proxies and says nothing of it in its answers.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class NginxForwardedHeadersTests : IAsyncLifetime
{
    private const string Forged = "203.0.113.7";
    private WebApplication _upstream = null!;
    private NginxProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        var (restPort, grpcPort) = (TestPorts.Next(), TestPorts.Next());
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, restPort, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        _upstream = builder.Build();
        _upstream.Run(context =>
        {
            var seen = $"{context.Request.Headers["X-Forwarded-For"]} {context.Request.Headers["X-Forwarded-Proto"]}";
            if (context.Request.ContentType == "application/grpc")
            {
                // A trailers-only gRPC answer that carries what was seen in its message.
                context.Response.ContentType = "application/grpc";
                context.Response.Headers["grpc-status"] = "16";
                context.Response.Headers["grpc-message"] = seen;
                return Task.CompletedTask;
            }

            return context.Response.WriteAsync(seen);
        });
        await _upstream.StartAsync();
        _proxy = await NginxProxy.StartAsync([(restPort, grpcPort), (restPort, grpcPort)]);
    }

    [Fact]
    public async Task Nginx_sets_X_Forwarded_For_to_the_address_it_saw_not_what_the_client_sent()
    {
        // From 127.0.0.5, with a forged header that names someone else.
        using var rest = new HttpClient(NginxProxy.HandlerFrom(IPAddress.Parse("127.0.0.5"))) { BaseAddress = _proxy.RestAddress };
        using var request = ChatRequests.Create(1, 1, cookie: null);
        request.Headers.Add("X-Forwarded-For", Forged);
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await rest.SendAsync(request);
        Assert.Equal("127.0.0.5 http", await response.Content.ReadAsStringAsync());

        using var channel = GrpcChannel.ForAddress(_proxy.GrpcAddress, new GrpcChannelOptions { HttpHandler = NginxProxy.HandlerFrom(IPAddress.Parse("127.0.0.5")) });
        var seen = await Assert.ThrowsAsync<RpcException>(() => new ChatService.ChatServiceClient(channel).CreateProjectChatAsync(
            new CreateProjectChatRequest(), new Metadata { { "x-forwarded-for", Forged }, { "x-forwarded-proto", "https" } }, DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal("127.0.0.5 http", seen.Status.Detail);
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }
}
