using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Balancing;

/// <summary>
/// Two replicas (processes of their own) on one database, and one client channel with the round_robin
/// policy over both addresses, as a client of the headless Service in deploy/kubernetes gets them
/// from DNS (a static resolver stands in for DNS here). Each replica's share is read from its own
/// metrics, as an operator would see it.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class RoundRobinTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Calls = 1000;
    private TwoReplicas _replicas = null!;

    public async Task InitializeAsync() => _replicas = await TwoReplicas.StartAsync();

    [Fact]
    public async Task One_round_robin_channel_spreads_1000_creates_so_that_each_replica_serves_40_to_60_percent()
    {
        var resolver = new StaticResolverFactory(_ => _replicas.Replicas.Select(replica => new BalancerAddress(replica.GrpcAddress.Host, replica.GrpcAddress.Port)).ToArray());
        using var channel = GrpcChannel.ForAddress("static:///neptun-chat", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = new ServiceCollection().AddSingleton<ResolverFactory>(resolver).BuildServiceProvider(),
            // As docs/clients.md configures it.
            ServiceConfig = new ServiceConfig
            {
                LoadBalancingConfigs = { new RoundRobinConfig() },
                MethodConfigs =
                {
                    new MethodConfig
                    {
                        Names = { MethodName.Default },
                        RetryPolicy = new RetryPolicy
                        {
                            MaxAttempts = 4,
                            InitialBackoff = TimeSpan.FromSeconds(0.2),
                            MaxBackoff = TimeSpan.FromSeconds(2),
                            BackoffMultiplier = 2,
                            RetryableStatusCodes = { StatusCode.Unavailable, StatusCode.ResourceExhausted },
                        },
                    },
                },
            },
        });
        var client = new ChatService.ChatServiceClient(channel);
        await channel.ConnectAsync();

        // A few callers at a time, as a service calling another would.
        var cookie = new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } };
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < Calls)
            {
                await client.CreateProjectChatAsync(
                    new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _replicas.ProjectId, Model = NeptunApiFixture.ValidModel, Name = "Balanced", RequestId = Guid.NewGuid().ToString() },
                    cookie,
                    DateTime.UtcNow.AddSeconds(60));
            }
        })));

        var served = await _replicas.ServedAsync(Calls, "CreateProjectChat", "http_response_status_code=\"200\"");
        Figures.Report(output, $"round_robin over 2 replicas: {string.Join(" and ", served)} of {Calls} creates");
        Assert.Equal(Calls, served.Sum());
        Assert.All(served, count => Assert.InRange(count, 0.4 * Calls, 0.6 * Calls));
        Assert.Equal(Calls, await NeptunRows.CountChatsAsync(_replicas.Database));
    }

    public async Task DisposeAsync()
    {
        if (_replicas is not null)
        {
            await _replicas.DisposeAsync();
        }
    }
}
