using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// PostgreSQL stopped under a steady load, then started again: callers are told UNAVAILABLE
/// quickly (never left hanging), health turns NOT_SERVING, and the same service process serves
/// again soon after the database is back, with nothing lost or duplicated; crashed, it tells no caller anything untrue.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class PostgresRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan FailFastGoal = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RecoveryGoal = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Database_stopped_under_load_fails_fast_and_the_service_recovers_without_a_restart()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: cluster.AdminConnectionString);
        await using var service = await ServiceProcess.StartAsync(database.ConnectionString);
        var projectId = await service.ServeAdaProjectAsync(database);
        var load = new FaultLoad(service.CreateChatClient, database, projectId);

        var calls = new ConcurrentQueue<LoadCall>();
        using var stopLoad = new CancellationTokenSource();
        var running = load.RunSteadyAsync(calls, workers: 4, pause: TimeSpan.FromMilliseconds(40), maxRequests: 2000, stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Contains(calls, c => c.Status == StatusCode.OK);

        await cluster.StopAsync();
        var stopped = Stopwatch.GetTimestamp();
        var notServingAfter = await Polling.UntilAsync(async () => await service.HealthAsync() == HealthCheckResponse.Types.ServingStatus.NotServing, FailFastGoal);
        using var rest = new HttpClient { BaseAddress = service.RestAddress };
        var restWhileDown = await TimedRestCreateAsync(rest, projectId);
        // On a busy machine the checks above may take longer than the downtime itself.
        if (Downtime - Stopwatch.GetElapsedTime(stopped) is { Ticks: > 0 } left)
        {
            await Task.Delay(left);
        }

        var restarting = Stopwatch.GetTimestamp();
        await cluster.StartAgainAsync();
        var started = Stopwatch.GetTimestamp();
        await Polling.UntilAsync(() => Task.FromResult(calls.Any(c => c.StartedAt >= started && c.Status == StatusCode.OK)), RecoveryGoal + TimeSpan.FromSeconds(5));
        var recoveredAt = calls.Where(c => c.StartedAt >= started && c.Status == StatusCode.OK).Select(c => (long?)c.EndedAt).Min();
        var servingAfter = await Polling.UntilAsync(async () => await service.HealthAsync() == HealthCheckResponse.Types.ServingStatus.Serving, RecoveryGoal);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stopLoad.CancelAsync();
        await running;

        var all = calls.ToList();
        var whileDown = all.Where(c => c.StartedAt >= stopped && c.EndedAt <= restarting).ToList();
        var duringFault = all.Where(c => c.EndedAt >= stopped && c.StartedAt <= started).ToList();
        var recovery = recoveredAt is { } at ? Stopwatch.GetElapsedTime(started, at) : (TimeSpan?)null;
        var figures = await load.AuditAsync("PostgreSQL stopped for 3 s under load", all);
        Figures.Report(output, $"{figures}, while down: {whileDown.Count} calls, worst {Worst(whileDown)} ms, "
            + $"worst during the fault {Worst(duringFault)} ms, REST {restWhileDown.Status} in {restWhileDown.Elapsed.TotalMilliseconds:F0} ms, "
            + $"health NOT_SERVING after {Milliseconds(notServingAfter)} ms, first create served {Milliseconds(recovery)} ms after the restart, "
            + $"health SERVING after {Milliseconds(servingAfter)} ms");

        // A call whose COMMIT was on its way when PostgreSQL stopped cannot learn its outcome while
        // the database is down: DEADLINE_EXCEEDED, "may have completed" (the audit above holds it to
        // its request id's replay). Only such a call, one in flight at the stop, may get it.
        Assert.All(all, c => Assert.Contains(c.Status, new[] { StatusCode.OK, StatusCode.Unavailable, StatusCode.DeadlineExceeded }));
        Assert.All(all.Where(c => c.Status == StatusCode.DeadlineExceeded), c => Assert.True(c.StartedAt < stopped && c.EndedAt >= stopped,
            $"{c.Name} was answered DEADLINE_EXCEEDED but was not in flight when PostgreSQL stopped"));
        Assert.NotEmpty(whileDown);
        Assert.All(whileDown, c => Assert.Equal(StatusCode.Unavailable, c.Status));
        Assert.All(duringFault, c => Assert.True(c.Elapsed < FailFastGoal, $"a call during the fault took {c.Elapsed.TotalMilliseconds:F0} ms"));
        Assert.Equal(503, restWhileDown.Status);
        Assert.True(restWhileDown.Elapsed < FailFastGoal, $"REST took {restWhileDown.Elapsed.TotalMilliseconds:F0} ms while the database was down");
        Assert.True(notServingAfter is not null, "health never reported NOT_SERVING while the database was down");
        Assert.True(recovery < RecoveryGoal, $"no create was served within {RecoveryGoal} of the restart ({Milliseconds(recovery)} ms)");
        Assert.True(servingAfter is not null, "health did not report SERVING again");
        Assert.All(all.Where(c => c.StartedAt > recoveredAt), c => Assert.Equal(StatusCode.OK, c.Status));
    }

    [Fact]
    public async Task Database_crashed_and_restarted_under_load_gives_no_201_for_a_chat_not_stored_and_no_503_for_one_stored()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: cluster.AdminConnectionString);
        await using var service = await ServiceProcess.StartAsync(database.ConnectionString);
        var projectId = await service.ServeAdaProjectAsync(database);
        var load = new UnkeyedLoad(service.CreateChatClient(), database, projectId);

        // Callers without request ids, back to back, so that COMMITs are in flight at the crash.
        var calls = new ConcurrentQueue<LoadCall>();
        using var stopLoad = new CancellationTokenSource();
        var running = load.RunSteadyAsync(calls, workers: 16, TimeSpan.Zero, stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Contains(calls, c => c.Status == StatusCode.OK);

        // COMMITs held in flight (one per writer) by a synchronous standby that never comes, then the crash.
        await SetSynchronousStandbyAsync(cluster, "never_connects");
        var committing = 0L;
        await Polling.UntilAsync(async () => (committing = await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")) >= 2, TimeSpan.FromSeconds(5));
        await cluster.CrashAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await cluster.StartAgainAsync();
        await SetSynchronousStandbyAsync(cluster, null);
        var started = Stopwatch.GetTimestamp();
        var recovered = await Polling.UntilAsync(() => Task.FromResult(calls.Any(c => c.StartedAt >= started && c.Status == StatusCode.OK)), RecoveryGoal + TimeSpan.FromSeconds(5));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stopLoad.CancelAsync();
        await running;

        var all = calls.ToList();
        var audit = await load.AuditAsync(all);
        Figures.Report(output, $"PostgreSQL crashed (pg_ctl stop -m immediate) with {committing} COMMITs in flight and started again under load: {audit}, "
            + string.Join(" ", all.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"))
            + $", first create served {Milliseconds(recovered)} ms after the start");
        audit.AssertTruthful();
        Assert.True(committing >= 1, "no COMMIT was in flight at the crash");
        Assert.True(recovered is not null, "no create was served after the restart");
    }

    private static async Task SetSynchronousStandbyAsync(OwnPostgresCluster cluster, string? name)
    {
        await using var admin = new Npgsql.NpgsqlConnection(cluster.AdminConnectionString);
        await admin.OpenAsync();
        await using (var set = new Npgsql.NpgsqlCommand(name is null ? "ALTER SYSTEM RESET synchronous_standby_names" : $"ALTER SYSTEM SET synchronous_standby_names = '{name}'", admin))
        {
            await set.ExecuteNonQueryAsync();
        }

        await using var reload = new Npgsql.NpgsqlCommand("SELECT pg_reload_conf()", admin);
        await reload.ExecuteScalarAsync();
    }

    private static async Task<(int Status, TimeSpan Elapsed)> TimedRestCreateAsync(HttpClient rest, int projectId)
    {
        using var request = ChatRequests.Create(NeptunApiFixture.AdaId, projectId, Sessions.CookieFor(NeptunApiFixture.AdaId));
        var since = Stopwatch.StartNew();
        using var response = await rest.SendAsync(request);
        return ((int)response.StatusCode, since.Elapsed);
    }

    private static string Worst(IReadOnlyCollection<LoadCall> calls) => calls.Select(c => c.Elapsed.TotalMilliseconds).DefaultIfEmpty(0).Max().ToString("F0", System.Globalization.CultureInfo.InvariantCulture);

    private static string Milliseconds(TimeSpan? time) => time is { } t ? t.TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) : "never";
}
