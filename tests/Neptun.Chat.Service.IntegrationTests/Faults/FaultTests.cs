using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Faults;

/// <summary>Faults in the middle of a bounded load; each prints one line of figures.</summary>
public sealed class FaultTests(NeptunApiFixture api, ITestOutputHelper output) : IClassFixture<NeptunApiFixture>
{
    private static readonly HashSet<StatusCode> DocumentedFailures = [StatusCode.Unavailable, StatusCode.DeadlineExceeded, StatusCode.Cancelled];

    [Fact]
    public async Task Service_connections_killed_by_pg_terminate_backend_lose_and_duplicate_nothing()
    {
        var load = new FaultLoad(api.Factory.CreateChatClient, api.Database, api.AdaProjectId);
        using var stop = new CancellationTokenSource();
        var killed = 0;
        var killer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                killed += await api.Database.ScalarAsync<int>("""
                    SELECT count(*)::int FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'neptun-chat-service' AND pid <> pg_backend_pid()) AS terminated
                    """);
                await Task.Delay(40);
            }
        });

        var calls = await load.RunAsync(400, 16, _ => new CallOptions(FaultLoad.Ada()));
        await stop.CancelAsync();
        await killer;

        var figures = await load.AuditAsync($"pg_terminate_backend ({killed} backends killed)", calls);
        Figures.Report(output, figures);
        Assert.True(killed > 0, "no service connection was killed");

        // A connection killed during its COMMIT leaves the outcome to be asked for; when the check
        // is killed too, the caller hears "may have completed" (the audit holds UNAVAILABLE to no row).
        Assert.All(calls.Where(c => c.Status != StatusCode.OK), c => Assert.Contains(c.Status, (StatusCode[])[StatusCode.Unavailable, StatusCode.DeadlineExceeded]));
    }

    [Fact]
    public async Task Deadlines_of_a_few_milliseconds_and_cancelling_clients_lose_and_duplicate_nothing()
    {
        // Over real sockets: a deadline or a cancel then reaches the service as HTTP/2 does it.
        await using var service = await KestrelService.StartAsync();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(service.GrpcAddress);
        var load = new FaultLoad(() => new Neptun.Chat.V1.ChatService.ChatServiceClient(channel), service.Database, service.ProjectId);
        var calls = await load.RunAsync(400, 16, i =>
        {
            if (i % 2 == 0)
            {
                return new CallOptions(FaultLoad.Ada(), deadline: DateTime.UtcNow.AddMilliseconds(1 + (i % 20)));
            }

            var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(1 + (i % 30)));
            return new CallOptions(FaultLoad.Ada(), cancellationToken: cancel.Token);
        });

        Figures.Report(output, await load.AuditAsync("deadlines of 1-20 ms and clients cancelling after 1-30 ms", calls));
        Assert.All(calls.Where(c => c.Status != StatusCode.OK), c => Assert.Contains(c.Status, DocumentedFailures));
        Assert.Contains(calls, c => c.Status != StatusCode.OK);
    }
}
