using System.Diagnostics;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.HighAvailability;

/// <summary>
/// A primary crashed under load (<c>pg_ctl stop -m immediate</c>) and its synchronous standby
/// promoted: callers without request ids are told the truth (no 500, no 201 missing from the new
/// primary, no 503 for a stored chat, no duplicate), within the request timeout plus 2 s, and
/// creates are answered 201 again within 2 s of the promotion, whether the service is given both
/// hosts or one address that a proxy switches. And a standby that stops acknowledging holds
/// commits back rather than letting a chat be acknowledged that a failover would lose.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const string OutageStarted = "The database is unavailable (";
    private const string OutageEnded = "The database answers again after";

    // 0.3 s: the fastest promotion, while a lost COMMIT's outcome is still being asked; 3 s: a
    // promotion after a failure detector's usual wait, the service refusing creates meanwhile.
    [Theory]
    [InlineData(0.3, true)]
    [InlineData(3.0, false)]
    public async Task Standby_promoted_after_the_primary_crashed_is_used_within_2_s_and_every_answer_is_true(double promoteAfterSeconds, bool uriForm)
    {
        await using var postgres = await ReplicatedPostgres.StartAsync();
        await FailOverAsync(postgres, uriForm ? postgres.UriConnectionString : postgres.KeywordConnectionString, TimeSpan.FromSeconds(promoteAfterSeconds),
            $"Failover, both hosts in the {(uriForm ? "URI" : "keyword")} form, promoted {promoteAfterSeconds} s after the crash");
    }

    [Fact]
    public async Task Through_haproxy_switched_after_the_promotion_creates_go_on_within_2_s_and_every_answer_is_true()
    {
        await using var postgres = await ReplicatedPostgres.StartAsync();
        await using var front = await HaproxyFront.StartAsync([postgres.Primary.Port, postgres.Standby.Port]);
        await FailOverAsync(postgres, postgres.ConnectionStringThrough(front.Port), TimeSpan.FromSeconds(0.3),
            "Failover through HAProxy switched after the promotion (0.3 s after the crash)", switchAfterPromotion: () => front.SwitchToAsync(1, servers: 2));
    }

    [Fact]
    public async Task A_standby_that_stops_acknowledging_holds_creates_back_without_a_201_and_they_go_on_when_it_resumes()
    {
        await using var postgres = await ReplicatedPostgres.StartAsync();
        await using var service = await ServiceProcess.StartAsync(postgres.KeywordConnectionString, FailoverLoad.ServiceSettings);
        var projectId = await postgres.SeedAsync();
        await service.WarmUpAsync(projectId);
        var load = new FailoverLoad(service, postgres.Database, projectId);
        await load.StartAsync();

        postgres.Standby.Freeze();
        var frozen = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(4));
        postgres.Standby.Resume();
        var resumed = Stopwatch.GetTimestamp();
        var outcome = await load.FinishAsync(resumed);

        outcome.Report(output, "Synchronous standby frozen (SIGSTOP) for 4 s under load, primary alive; figures from the resume", frozen, resumed);

        // A commit the standby acknowledged just before the freeze may be answered a moment after it;
        // later, no 201 can be for a chat the standby has: the primary alone has it, and a failover would lose it.
        // The deadline never cancels a COMMIT in flight: a cancel would end the wait for the
        // standby, and PostgreSQL would report the COMMIT done though only the primary has it.
        var acknowledgedAlone = outcome.Calls
            .Where(c => c.Status == StatusCode.OK && c.EndedAt > frozen + (Stopwatch.Frequency / 2) && c.EndedAt < resumed)
            .ToList();
        Assert.True(acknowledgedAlone.Count == 0,
            $"{acknowledgedAlone.Count} creates answered 201 while the synchronous standby was frozen, e.g. {acknowledgedAlone.FirstOrDefault()?.Name}");
        outcome.AssertKept(frozen, resumed);
    }

    /// <summary>The service on <paramref name="connectionString"/> under load; the primary crashed, the standby promoted <paramref name="promoteAfter"/> later.</summary>
    private async Task FailOverAsync(ReplicatedPostgres postgres, string connectionString, TimeSpan promoteAfter, string run, Func<Task>? switchAfterPromotion = null)
    {
        await using var service = await ServiceProcess.StartAsync(connectionString, FailoverLoad.ServiceSettings);
        var projectId = await postgres.SeedAsync();
        await service.WarmUpAsync(projectId);
        var load = new FailoverLoad(service, postgres.OnStandby, projectId);
        await load.StartAsync();

        await postgres.Primary.CrashAsync();
        var crashed = Stopwatch.GetTimestamp();
        await Task.Delay(promoteAfter);
        await postgres.Standby.PromoteAsync();
        var promoted = Stopwatch.GetTimestamp();
        if (switchAfterPromotion is not null)
        {
            await switchAfterPromotion();
        }

        var outcome = await load.FinishAsync(promoted);

        outcome.Report(output, run, crashed, promoted);
        outcome.AssertKept(crashed, promoted);
        AssertOneOutageLogged(service);
    }

    private static void AssertOneOutageLogged(ServiceProcess service)
    {
        var lines = service.Lines;
        Assert.True(lines.Count(line => line.Contains(OutageStarted, StringComparison.Ordinal)) == 1,
            $"expected one line saying the outage started:{Environment.NewLine}{service.Output}");
        Assert.True(lines.Count(line => line.Contains(OutageEnded, StringComparison.Ordinal)) == 1,
            $"expected one line saying the outage ended:{Environment.NewLine}{service.Output}");
        // Not one Error per create, as before, nor one per failed probe: nothing at Error (the JSON
        // console's level field).
        var error = lines.FirstOrDefault(line => line.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal));
        Assert.True(error is null, $"logged at Error: {error}");
    }
}
