using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Faults;

/// <summary>Far more concurrent callers than pool slots: each waits a bounded time or gets UNAVAILABLE; nothing crashes.</summary>
public sealed class PoolExhaustionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int PoolSize = 2;
    private TestDatabase _database = null!;
    private ChatServiceFactory _factory = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();

        // A pool of two, and requests that may spend at most one second on the database.
        _factory = new ChatServiceFactory($"{_database.ConnectionString};Maximum Pool Size={PoolSize};Timeout=1",
            new Dictionary<string, string?> { ["Database:CreateTimeoutSeconds"] = "1" });
        _ = _factory.Server;
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        _projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
        await _database.ExecuteAsync("""
            CREATE FUNCTION slow_chat() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END $$;
            CREATE TRIGGER slow_chat BEFORE INSERT ON chat_conversation FOR EACH ROW EXECUTE FUNCTION slow_chat();
            """);
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Two_hundred_callers_on_two_connections_wait_a_bounded_time_or_get_unavailable()
    {
        var load = new FaultLoad(_factory.CreateChatClient, _database, _projectId);
        var calls = await load.RunAsync(200, 100, _ => new CallOptions(FaultLoad.Ada()));

        Figures.Report(output, await load.AuditAsync($"pool of {PoolSize} under 100 concurrent callers (50 ms per insert)", calls));
        Assert.All(calls.Where(c => c.Status != StatusCode.OK), c => Assert.Equal(StatusCode.Unavailable, c.Status));
        Assert.Contains(calls, c => c.Status == StatusCode.OK);
        // One second of database time, plus scheduling on a busy two-core machine; unbounded it was 44 s.
        Assert.All(calls, c => Assert.True(c.Elapsed < TimeSpan.FromSeconds(6), $"a call took {c.Elapsed}"));

        // The pool is free again: the next caller is served.
        var after = await load.RunAsync(1, 1, _ => new CallOptions(FaultLoad.Ada()));
        Assert.Equal(StatusCode.OK, after.Single().Status);
    }
}
