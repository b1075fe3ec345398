using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.Limits;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Limits;

/// <summary>
/// Two replicas (two in-process hosts on one database) sharing one rate limit in a real
/// redis-server: the limit holds across both, and creates go on while Redis is down.
/// </summary>
public sealed class SharedRateLimitTests : IAsyncLifetime
{
    private const int PermitLimit = 6;
    private const int WindowSeconds = 120;
    private RedisServer _redis = null!;
    private TestDatabase _database = null!;
    private ChatServiceFactory[] _replicas = [];
    private int _adaProject;
    private int _graceProject;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _database = await TestDatabase.CreateAsync();
        var settings = new Dictionary<string, string?>
        {
            ["RateLimiting:Redis"] = _redis.Configuration,
            ["RateLimiting:PermitLimit"] = PermitLimit.ToString(CultureInfo.InvariantCulture),
            ["RateLimiting:WindowSeconds"] = WindowSeconds.ToString(CultureInfo.InvariantCulture),
        };
        _replicas = [new ChatServiceFactory(_database.ConnectionString, settings), new ChatServiceFactory(_database.ConnectionString, settings)];
        await Task.WhenAll(_replicas.Select(replica => Task.Run(replica.StartServer)));
        _adaProject = await NeptunRows.InsertProjectAsync(_database, await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId));
        _graceProject = await NeptunRows.InsertProjectAsync(_database, await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.GraceId));
    }

    [Fact]
    public async Task Calls_spread_over_two_replicas_get_exactly_the_limit_and_the_rest_429_or_resource_exhausted_with_the_pushback()
    {
        await WaitUntilConnectedAsync();

        // One call to each replica first, so that both count in the window whatever the race
        // below; then the rest of four times the limit at once, alternating replica, and REST and
        // gRPC on each.
        var calls = Enumerable.Range(0, 4 * PermitLimit).Select(i => (Index: i, Replica: _replicas[i % 2], OverGrpc: i / 2 % 2 == 0)).ToList();
        var outcomes = new List<Outcome>();
        foreach (var (index, replica, overGrpc) in calls.Take(2))
        {
            outcomes.Add(await CreateAsync(replica, NeptunApiFixture.AdaId, _adaProject, overGrpc, $"Shared limit {index}"));
        }

        outcomes.AddRange(await Task.WhenAll(calls.Skip(2).Select(call =>
            CreateAsync(call.Replica, NeptunApiFixture.AdaId, _adaProject, call.OverGrpc, $"Shared limit {call.Index}"))));

        Assert.Equal(PermitLimit, outcomes.Count(outcome => outcome.Created));
        var refused = outcomes.Where(outcome => !outcome.Created).ToList();
        Assert.Equal(3 * PermitLimit, refused.Count);
        Assert.All(refused, outcome =>
        {
            Assert.True(outcome.Refused, outcome.ToString());
            // The time left in the window, which began with this test's first call seconds ago.
            Assert.InRange(outcome.PushbackSeconds!.Value, WindowSeconds - 60, WindowSeconds);
        });
        Assert.Contains(refused, outcome => outcome.OverGrpc);
        Assert.Contains(refused, outcome => !outcome.OverGrpc);
        Assert.Contains(outcomes, outcome => outcome.Created && outcome.Replica == _replicas[0]);
        Assert.Contains(outcomes, outcome => outcome.Created && outcome.Replica == _replicas[1]);
        Assert.Equal(PermitLimit, await NeptunRows.CountChatsAsync(_database));

        // Another user has a window of their own.
        Assert.True((await CreateAsync(_replicas[1], NeptunApiFixture.GraceId, _graceProject, overGrpc: false, "Grace")).Created);
    }

    [Fact]
    public async Task Redis_stopped_under_load_fails_no_create_and_the_shared_limit_resumes_by_itself_when_it_returns()
    {
        await WaitUntilConnectedAsync();
        using var failedOpen = new FailedOpenCounts(_replicas);

        // Two callers create steadily over both replicas while Redis is killed and started again.
        // Phases end by count, not time, so that a slow machine sends the same load: a few creates
        // before, more than the limit during the outage, a few after (under the limit of the new,
        // empty Redis).
        using var stop = new CancellationTokenSource();
        var completed = 0;
        var load = Enumerable.Range(0, 2).Select(caller => Task.Run(async () =>
        {
            var outcomes = new List<Outcome>();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                outcomes.Add(await CreateAsync(_replicas[(caller + i) % 2], NeptunApiFixture.AdaId, _adaProject, overGrpc: i % 2 == 0, $"Outage {caller}.{i}"));
                Interlocked.Increment(ref completed);
            }

            return outcomes;
        })).ToList();

        await UntilAsync(() => Volatile.Read(ref completed) >= 2);
        await _redis.StopAsync();
        var atStop = Volatile.Read(ref completed);
        await UntilAsync(() => Volatile.Read(ref completed) >= atStop + 2 * PermitLimit);
        await _redis.StartAgainAsync();
        var atStart = Volatile.Read(ref completed);
        await UntilAsync(() => Volatile.Read(ref completed) >= atStart + 2);
        stop.Cancel();
        var all = (await Task.WhenAll(load)).SelectMany(outcomes => outcomes).ToList();

        // The load was well over the limit (fail open), and every single create of it was served.
        Assert.All(all, outcome => Assert.True(outcome.Created, outcome.ToString()));
        Assert.Equal(all.Count, await NeptunRows.CountChatsAsync(_database));

        // Each replica said so: one warning for the outage, and the requests let through counted
        // by its own meter.
        Assert.All(_replicas, replica => Assert.Single(replica.Logs.Lines,
            line => line.StartsWith("Warning", StringComparison.Ordinal) && line.Contains("without the shared rate limit", StringComparison.Ordinal)));
        Assert.All(failedOpen.Counts, count => Assert.True(count > 0, $"failed open: {string.Join(", ", failedOpen.Counts)}"));
        Assert.True(failedOpen.Counts.Sum() > PermitLimit, $"failed open: {string.Join(", ", failedOpen.Counts)}");

        // Back, by itself: once both connections are up again, the window is shared and exact once more.
        await WaitUntilConnectedAsync();
        var after = await Task.WhenAll(Enumerable.Range(0, 2 * PermitLimit).Select(i =>
            CreateAsync(_replicas[i % 2], NeptunApiFixture.GraceId, _graceProject, overGrpc: i % 3 == 0, $"After {i}")));
        Assert.Equal(PermitLimit, after.Count(outcome => outcome.Created));
        Assert.All(after.Where(outcome => !outcome.Created), outcome => Assert.True(outcome.Refused, outcome.ToString()));
        Assert.Contains(_replicas[0].Logs.Lines.Concat(_replicas[1].Logs.Lines), line => line.Contains("Redis answers again", StringComparison.Ordinal));
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 20)
        {
            Assert.True(waited < 60_000, "the load did not get there within 60 s");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Each replica's own count of requests let through. Read from its own meter instance: hosts in
    /// one process share the exporter's listener, so a scrape of either would count both.
    /// </summary>
    private sealed class FailedOpenCounts : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly long[] _counts;

        public FailedOpenCounts(ChatServiceFactory[] replicas)
        {
            _counts = new long[replicas.Length];
            var meters = replicas.Select(replica => replica.Services.GetRequiredService<ChatCreateMetrics>().Meter).ToArray();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                var replica = Array.IndexOf(meters, instrument.Meter);
                if (replica >= 0 && instrument.Name == "neptun.chat.rate_limit.failed_open")
                {
                    listener.EnableMeasurementEvents(instrument, replica);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, replica) => Interlocked.Add(ref _counts[(int)replica!], value));
            _listener.Start();
        }

        public long[] Counts => _counts.ToArray();

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Each replica connects at start (and again after an outage) in the background; a test starts from connected.</summary>
    private async Task WaitUntilConnectedAsync()
    {
        foreach (var replica in _replicas)
        {
            var connection = replica.Services.GetRequiredService<SharedRateLimit>().Connection;
            for (var waited = 0; !connection.IsConnected; waited += 100)
            {
                Assert.True(waited < 30_000, "the Redis connection was not up within 30 s");
                await Task.Delay(100);
            }
        }
    }

    private static async Task<Outcome> CreateAsync(ChatServiceFactory replica, int userId, int projectId, bool overGrpc, string name)
    {
        var cookie = Sessions.CookieFor(userId);
        if (overGrpc)
        {
            try
            {
                await replica.CreateChatClient().CreateProjectChatAsync(
                    new CreateProjectChatRequest { UserId = userId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = name },
                    new Metadata { { "cookie", cookie } });
                return new Outcome(replica, true, "OK", null);
            }
            catch (RpcException error)
            {
                var pushback = error.Trailers.GetValue("grpc-retry-pushback-ms");
                return new Outcome(replica, true, error.StatusCode.ToString(), pushback is null ? null : int.Parse(pushback, CultureInfo.InvariantCulture) / 1000.0);
            }
        }

        using var rest = replica.CreateClient();
        using var request = ChatRequests.Create(userId, projectId, cookie, JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));
        using var response = await rest.SendAsync(request);
        return new Outcome(replica, false, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), response.Headers.RetryAfter?.Delta?.TotalSeconds);
    }

    private sealed record Outcome(ChatServiceFactory Replica, bool OverGrpc, string Status, double? PushbackSeconds)
    {
        public bool Created => Status is "OK" or "201";

        public bool Refused => Status is nameof(StatusCode.ResourceExhausted) or "429";

        public override string ToString() => $"{(OverGrpc ? "gRPC" : "REST")} {Status}, pushback {PushbackSeconds}";
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await _database.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
