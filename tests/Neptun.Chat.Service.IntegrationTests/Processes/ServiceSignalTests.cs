using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// The service process stopped in the middle of a load: by SIGKILL (nothing acknowledged is lost,
/// nothing half-written remains) and by SIGTERM (requests in flight are answered, then it exits 0).
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class ServiceSignalTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Concurrency = 16;
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);
    private readonly List<ServiceProcess> _services = [];
    private TestDatabase _database = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Sigkill_under_load_loses_and_half_writes_nothing()
    {
        var service = await StartServiceAsync();
        var afterwards = default(ServiceProcess);
        // The audit retries errored creates through whichever process is running by then.
        var load = new FaultLoad(() => (afterwards ?? service).CreateChatClient(), _database, _projectId);
        var running = load.RunAsync(300, Concurrency, _ => new CallOptions(FaultLoad.Ada(), deadline: DateTime.UtcNow.AddSeconds(30)));
        await WaitForChatsAsync(100);
        service.Kill();
        var killed = Stopwatch.GetTimestamp();
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(5)), "the killed service did not exit");

        // A COMMIT that reached PostgreSQL before the death still commits after it; anything else
        // of the dead process's was in an open transaction, which its lost connection rolls back.
        var rowsAtDeath = await NeptunRows.CountChatsAsync(_database);
        var calls = await running;
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rowsAfterDeath = await NeptunRows.CountChatsAsync(_database) - rowsAtDeath;

        afterwards = await StartServiceAsync();
        var duringFault = calls.Where(c => c.EndedAt >= killed && c.StartedAt <= killed).ToList();

        // The audit retries each errored create that is stored with its request id: it must get that chat back.
        var figures = await load.AuditAsync("service SIGKILLed under load", calls);
        Figures.Report(output, $"{figures}, {duringFault.Count} in flight at the kill, worst of those "
            + $"{duringFault.Select(c => c.Elapsed.TotalMilliseconds).DefaultIfEmpty(0).Max():F0} ms, "
            + $"{rowsAfterDeath} rows appeared after the death");

        Assert.Contains(calls, c => c.Status == StatusCode.OK);
        Assert.Contains(calls, c => c.Status != StatusCode.OK);
        Assert.All(calls.Where(c => c.Status != StatusCode.OK), c => Assert.Equal(StatusCode.Unavailable, c.Status));
    }

    [Fact]
    public async Task Sigterm_under_load_answers_the_requests_in_flight_and_exits_0()
    {
        var service = await StartServiceAsync(new Dictionary<string, string>
        {
            ["HostOptions__ShutdownTimeout"] = ShutdownTimeout.ToString(),

            // Held creates must not give up on the database before the gate opens, and the
            // shutdown timeout must cover the request timeout.
            ["Database__CreateTimeoutSeconds"] = "12",

            // Each create in a statement of its own, by as many writers as callers, so that the held
            // backends show that every create of the load is inside the service; with group commit
            // most would wait in the service's queue, where the database cannot count them.
            ["Database__MaxBatchSize"] = "1",
            ["Database__MaxBatchWriters"] = Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // Every insert waits on an advisory lock the test may hold, so at the signal a known set of
        // creates is inside the service, in the middle of its database work.
        await _database.ExecuteAsync("""
            CREATE FUNCTION gated_chat() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$;
            CREATE TRIGGER gated_chat BEFORE INSERT ON chat_conversation FOR EACH ROW EXECUTE FUNCTION gated_chat();
            """);
        var afterwards = default(ServiceProcess);
        var load = new FaultLoad(() => (afterwards ?? service).CreateChatClient(), _database, _projectId);
        var running = load.RunAsync(300, Concurrency, _ => new CallOptions(FaultLoad.Ada(), deadline: DateTime.UtcNow.AddSeconds(60)));
        await WaitForChatsAsync(50);

        await using var gate = await _database.OpenAsync();
        await gate.ExecuteAsync("SELECT pg_advisory_lock(4242)");
        await WaitForHeldCreatesAsync(Concurrency);
        service.Terminate();
        var terminated = Stopwatch.GetTimestamp();

        // The service must wait for its held requests rather than exit under them.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(service.HasExited, $"the service exited with requests in flight:{Environment.NewLine}{service.Output}");
        await gate.ExecuteAsync("SELECT pg_advisory_unlock(4242)");
        var opened = Stopwatch.GetTimestamp();
        Assert.True(await service.WaitForExitAsync(ShutdownTimeout), $"the service did not exit within its shutdown timeout:{Environment.NewLine}{service.Output}");
        var exitedAfter = Stopwatch.GetElapsedTime(terminated);
        var exitedAfterOpening = Stopwatch.GetElapsedTime(opened);
        var calls = await running;

        afterwards = await StartServiceAsync();
        var inFlight = calls.Where(c => c.StartedAt <= terminated && c.EndedAt >= terminated).ToList();
        var figures = await load.AuditAsync("service SIGTERMed under load", calls);
        Figures.Report(output, $"{figures}, {inFlight.Count} in flight at SIGTERM ({inFlight.Count(c => c.Status == StatusCode.OK)} answered OK), "
            + $"exit code {service.ExitCode} {exitedAfter.TotalMilliseconds:F0} ms after SIGTERM, "
            + $"{exitedAfterOpening.TotalMilliseconds:F0} ms after the held creates were let go");

        Assert.Equal(0, service.ExitCode);
        Assert.True(inFlight.Count >= Concurrency, $"only {inFlight.Count} creates were in flight at SIGTERM");
        Assert.All(inFlight, c => Assert.Equal(StatusCode.OK, c.Status));
        Assert.All(calls.Where(c => c.Status != StatusCode.OK), c => Assert.Equal(StatusCode.Unavailable, c.Status));
    }

    [Fact]
    public async Task Sigterm_with_batching_while_a_lock_holds_the_creates_exits_0_and_every_answer_is_true()
    {
        // Group commit as deployed (default batch size, writers and create timeout of 5 s).
        var service = await StartServiceAsync(new Dictionary<string, string> { ["HostOptions__ShutdownTimeout"] = ShutdownTimeout.ToString() });
        var load = new UnkeyedLoad(service.CreateChatClient(), _database, _projectId);
        var calls = new ConcurrentQueue<LoadCall>();
        using var stopLoad = new CancellationTokenSource();
        // A short pause: once the service stops listening, each call is refused at once.
        var running = load.RunSteadyAsync(calls, Concurrency, TimeSpan.FromMilliseconds(10), stopLoad.Token);
        await WaitForChatsAsync(50);

        // A migration's lock: every insert into the chat table waits behind it, so at the signal
        // the writers' statements are in PostgreSQL's hands and the other creates in the queue.
        await using var locker = await _database.OpenAsync();
        await using var migration = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("LOCK TABLE public.chat_conversation IN SHARE MODE", transaction: migration);
        await WaitForAsync(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'neptun-chat-service' AND wait_event_type = 'Lock'",
            1);
        var heldStatements = await _database.ScalarAsync<int>(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'neptun-chat-service' AND wait_event_type = 'Lock'");
        service.Terminate();
        var terminated = Stopwatch.GetTimestamp();

        // The lock outlives the process: whatever the service answered, it answered while its statements were held.
        var exited = await service.WaitForExitAsync(ShutdownTimeout);
        var exitedAfter = Stopwatch.GetElapsedTime(terminated);
        await stopLoad.CancelAsync();
        await running;
        var rowsAtExit = (await load.RowsByNameAsync()).Values.Sum(ids => ids.Count);
        await migration.RollbackAsync();

        // A statement of the dead process that PostgreSQL still ran would commit now.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var all = calls.ToList();
        var audit = await load.AuditAsync(all);
        var inFlight = all.Where(c => c.StartedAt <= terminated && c.EndedAt >= terminated).ToList();
        var statuses = string.Join(" ", inFlight.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"));
        Figures.Report(output, $"service SIGTERMed (batching on) with creates held by a table lock: {audit}, {heldStatements} statements held, "
            + $"{inFlight.Count} in flight at SIGTERM ({statuses}), worst of those {inFlight.Select(c => c.Elapsed.TotalMilliseconds).DefaultIfEmpty(0).Max():F0} ms, "
            + $"exit code {(exited ? service.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")} {exitedAfter.TotalMilliseconds:F0} ms after SIGTERM, "
            + $"{audit.Rows - rowsAtExit} rows appeared after the exit and the lock's release");

        Assert.True(exited, $"the service did not exit within its shutdown timeout:{Environment.NewLine}{service.Output}");
        Assert.Equal(0, service.ExitCode);
        audit.AssertTruthful();
        Assert.Equal(rowsAtExit, audit.Rows);
        Assert.True(inFlight.Count >= Concurrency, $"only {inFlight.Count} creates were in flight at SIGTERM");

        // Held past their deadline: each was told that nothing was written, and nothing was.
        Assert.All(inFlight, c => Assert.Equal(StatusCode.Unavailable, c.Status));
    }

    private async Task<ServiceProcess> StartServiceAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var service = await ServiceProcess.StartAsync(_database.ConnectionString, settings);
        _services.Add(service);
        if (_projectId == 0)
        {
            // The service migrates the database when it starts; Ada and her project go in after.
            await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
            _projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
        }

        await service.WarmUpAsync(_projectId);
        return service;
    }

    private Task WaitForChatsAsync(int count) => WaitForAsync("SELECT count(*)::int FROM chat_conversation", count);

    private Task WaitForHeldCreatesAsync(int count) => WaitForAsync(
        "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'neptun-chat-service' AND wait_event = 'advisory'",
        count);

    private async Task WaitForAsync(string countSql, int count)
    {
        if (await Polling.UntilAsync(async () => await _database.ScalarAsync<int>(countSql) >= count, TimeSpan.FromSeconds(30)) is null)
        {
            throw new TimeoutException($"{countSql}: still under {count} after 30 s");
        }
    }
}
