using System.Net;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Api;
using Neptun.Chat.Service.IntegrationTests.Batching;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Stalls;

/// <summary>One writer and room for three creates in the queue, so that a test can fill it.</summary>
public sealed class SmallQueueApiFixture : NeptunApiFixture
{
    public const int Capacity = 3;

    public SmallQueueApiFixture()
    {
        Settings = new Dictionary<string, string?>
        {
            ["Database:MaxBatchWriters"] = "1",
            ["Database:MaxQueuedCreates"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}

/// <summary>The queue is bounded, and a create's deadline bounds its statement too.</summary>
public sealed class QueueTests(SmallQueueApiFixture api) : IClassFixture<SmallQueueApiFixture>
{
    [Fact]
    public async Task A_full_queue_refuses_at_once_with_a_retry_pushback_on_both_surfaces_and_writes_nothing()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var client = api.Factory.CreateChatClient();
        Task<HttpResponseMessage> first = null!;
        List<Task<HttpResponseMessage>> queued;
        HttpResponseMessage refusedRest;
        RpcException refusedGrpc;
        var (writer, _) = await HeldWriter.StartAsync(api, () => first = PostAsync($"queue {run} holding"));
        await using (writer)
        {
            queued = Enumerable.Range(0, SmallQueueApiFixture.Capacity).Select(i => PostAsync($"queue {run} queued {i}")).ToList();
            await writer.UntilQueuedAsync(SmallQueueApiFixture.Capacity);

            // Answered while the writer is still held: a refusal does not wait for room.
            refusedRest = await PostAsync($"queue {run} refused rest");
            refusedGrpc = await Assert.ThrowsAsync<RpcException>(async () => await client.CreateProjectChatAsync(
                new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = $"queue {run} refused grpc" },
                FaultLoad.Ada()));
        }

        await RestErrorContract.AssertErrorBody(refusedRest, 503, "Service Unavailable");
        Assert.Equal("1", Assert.Single(refusedRest.Headers.GetValues("Retry-After")));
        Assert.Equal(StatusCode.Unavailable, refusedGrpc.StatusCode);
        Assert.Equal("1000", refusedGrpc.Trailers.GetValue("grpc-retry-pushback-ms"));

        Assert.Equal(HttpStatusCode.Created, (await first).StatusCode);
        Assert.All(await Task.WhenAll(queued), response => Assert.Equal(HttpStatusCode.Created, response.StatusCode));
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE name LIKE @Prefix", new { Prefix = $"queue {run} refused %" }));
        Assert.Equal(1 + SmallQueueApiFixture.Capacity, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE name LIKE @Prefix", new { Prefix = $"queue {run} %" }));
    }

    [Fact]
    public async Task A_calls_own_deadline_cancels_its_statement_in_the_database_and_nothing_is_written()
    {
        // The service may wait 60 s (the test factory's timeout); the call allows 3 s.
        var name = $"deadline {Guid.NewGuid():N}";
        var client = api.Factory.CreateChatClient();
        Task<StatusCode> call = null!;
        var (writer, _) = await HeldWriter.StartAsync(api, () => call = CreateAsync(client, name, DateTime.UtcNow.AddSeconds(3)));
        await using (writer)
        {
            // In process, the server's deadline handling may reset the stream before the client's
            // own timer fires: either way the client is told its call did not finish in time. On a
            // loaded machine the statement's cancellation at the same deadline can reach the caller
            // first: then the service's own answer, UNAVAILABLE, says that nothing was written.
            Assert.Contains(await call, (StatusCode[])[StatusCode.DeadlineExceeded, StatusCode.Cancelled, StatusCode.Unavailable]);

            // Cancelled on the server too, not left to commit once the lock goes.
            Assert.NotNull(await Polling.UntilAsync(async () => await writer.CountWaitingOnLockAsync() == 0, TimeSpan.FromSeconds(10)));
        }

        await Task.Delay(500);
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE name = @Name", new { Name = name }));
    }

    private Task<HttpResponseMessage> PostAsync(string name) =>
        api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));

    private async Task<StatusCode> CreateAsync(ChatService.ChatServiceClient client, string name, DateTime deadline)
    {
        try
        {
            await client.CreateProjectChatAsync(
                new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = name },
                FaultLoad.Ada(), deadline);
            return StatusCode.OK;
        }
        catch (RpcException exception)
        {
            return TestServerResets.StatusAsOverHttp2(exception);
        }
    }
}
