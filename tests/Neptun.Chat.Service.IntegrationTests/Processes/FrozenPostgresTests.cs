using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// PostgreSQL frozen (SIGSTOP of the whole cluster: a stalled disk or a paused VM look the same)
/// for longer than the request timeout under a steady load of creates without request ids, then
/// resumed. Statements sent before the freeze run when it ends, so a caller told 503 while its
/// statement was in the server's hands would find its chat stored: the answers must stay true,
/// come within the timeout plus Npgsql's cancellation timeout, and the service must serve again
/// at once, on no more connections than its writers need.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class FrozenPostgresTests(ITestOutputHelper output)
{
    private const int Writers = 4;
    private const int Workers = 16;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Frozen = TimeSpan.FromSeconds(4.5);

    // The bound: the timeout, then Npgsql's 1 s cancellation timeout (the cancel request
    // finds a frozen postmaster) and up to 1 s asking whether a lost COMMIT committed.
    private static readonly TimeSpan WorstAnswer = RequestTimeout + TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RecoveryGoal = TimeSpan.FromSeconds(3);

    // Writers, plus the model catalog, the request id purge, the schema check and a commit check.
    private const int MostConnections = Writers + 4;

    [Fact]
    public async Task Frozen_postgres_answers_truthfully_within_the_timeout_and_serves_again_on_resume()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: cluster.AdminConnectionString);
        await using var service = await ServiceProcess.StartAsync(database.ConnectionString, new Dictionary<string, string>
        {
            ["Database__CreateTimeoutSeconds"] = RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            ["Database__MaxBatchWriters"] = Writers.ToString(CultureInfo.InvariantCulture),
        });
        var projectId = await service.ServeAdaProjectAsync(database);
        var load = new UnkeyedLoad(service.CreateChatClient(), database, projectId);

        var calls = new ConcurrentQueue<LoadCall>();
        using var stopLoad = new CancellationTokenSource();
        var running = load.RunSteadyAsync(calls, Workers, TimeSpan.FromMilliseconds(20), stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Contains(calls, c => c.Status == StatusCode.OK);

        cluster.Freeze();
        var frozen = Stopwatch.GetTimestamp();

        // Nothing can ask PostgreSQL now: the service's connections are counted by their sockets.
        var mostSocketsWhileFrozen = 0;
        while (Stopwatch.GetElapsedTime(frozen) < Frozen)
        {
            mostSocketsWhileFrozen = Math.Max(mostSocketsWhileFrozen, EstablishedConnectionsTo(cluster.Port));
            await Task.Delay(100);
        }

        cluster.Resume();
        var resumed = Stopwatch.GetTimestamp();
        var mostBackendsAfter = 0;
        while (Stopwatch.GetElapsedTime(resumed) < TimeSpan.FromSeconds(4))
        {
            mostBackendsAfter = Math.Max(mostBackendsAfter, await database.ScalarAsync<int>(
                "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'neptun-chat-service'"));
            await Task.Delay(200);
        }

        await stopLoad.CancelAsync();
        await running;

        // A statement the freeze held runs when it ends; give any late commit time to land.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var all = calls.ToList();
        var audit = await load.AuditAsync(all);
        var duringFreeze = all.Where(c => c.EndedAt >= frozen && c.StartedAt <= resumed).ToList();
        var recoveredAt = all.Where(c => c.StartedAt >= resumed && c.Status == StatusCode.OK).Select(c => (long?)c.EndedAt).Min();
        var recovery = recoveredAt is { } at ? Stopwatch.GetElapsedTime(resumed, at) : (TimeSpan?)null;
        var worst = all.Max(c => c.Elapsed);
        var statuses = string.Join(" ", duringFreeze.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"));
        Figures.Report(output, $"PostgreSQL frozen {Frozen.TotalSeconds:F1} s (timeout {RequestTimeout.TotalSeconds:F0} s, no request ids): {audit}, "
            + $"during the freeze {duringFreeze.Count} calls ({statuses}), worst {worst.TotalMilliseconds:F0} ms, "
            + $"first create served {(recovery is { } r ? r.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) : "never")} ms after the resume, "
            + $"connections: most {mostSocketsWhileFrozen} sockets while frozen, most {mostBackendsAfter} backends after (writers {Writers})");

        audit.AssertTruthful();
        Assert.NotEmpty(duringFreeze);
        Assert.All(all, c => Assert.True(c.Elapsed <= WorstAnswer, $"{c.Name} was answered {c.Status} after {c.Elapsed.TotalMilliseconds:F0} ms"));
        Assert.True(recovery < RecoveryGoal, $"no create was served within {RecoveryGoal} of the resume ({recovery})");
        Assert.InRange(mostSocketsWhileFrozen, 1, MostConnections);
        Assert.InRange(mostBackendsAfter, 1, MostConnections);
    }

    /// <summary>Client ends of established TCP connections to <paramref name="port"/> on loopback (only the service connects while the cluster is frozen).</summary>
    private static int EstablishedConnectionsTo(int port)
    {
        var remote = $":{port:X4}";
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(fields => fields[2].EndsWith(remote, StringComparison.Ordinal) && fields[3] == "01");
    }
}
