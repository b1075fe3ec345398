using System.Diagnostics;
using Dapper;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// A COMMIT that waits for a synchronous standby past the create's deadline: cancelling that wait
/// would leave the transaction committed locally, maybe never replicated, and reported committed.
/// The service does not cancel it; it answers "may have completed".
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class SynchronousCommitTests
{
    private const int CreateTimeoutSeconds = 2;

    [Fact]
    public async Task A_commit_waiting_for_a_standby_past_the_deadline_is_not_cancelled_and_is_answered_504()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: cluster.AdminConnectionString);
        await using var service = await ServiceProcess.StartAsync(database.ConnectionString, new Dictionary<string, string>
        {
            ["Database__CreateTimeoutSeconds"] = CreateTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var projectId = await service.ServeAdaProjectAsync(database);

        // A standby that never comes: every COMMIT now waits for it.
        await using var admin = new NpgsqlConnection(cluster.AdminConnectionString);
        await admin.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = 'never_connects'");
        await admin.ExecuteAsync("SELECT pg_reload_conf()");
        var name = $"sync {Guid.NewGuid():N}";
        var since = Stopwatch.StartNew();
        var status = StatusCode.OK;
        try
        {
            await service.CreateChatClient().CreateProjectChatAsync(
                new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = name },
                FaultLoad.Ada());
        }
        catch (RpcException exception)
        {
            status = exception.StatusCode;
        }

        var elapsed = since.Elapsed;
        var stillWaiting = await admin.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
        await admin.ExecuteAsync("ALTER SYSTEM RESET synchronous_standby_names");
        await admin.ExecuteAsync("SELECT pg_reload_conf()");

        Assert.Equal(StatusCode.DeadlineExceeded, status);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(CreateTimeoutSeconds), TimeSpan.FromSeconds(CreateTimeoutSeconds + 3));
        Assert.Equal(1, stillWaiting);

        // Let go, the COMMIT completes: the chat answered "may have completed" is stored once.
        Assert.NotNull(await Polling.UntilAsync(async () => await database.ScalarAsync<long>(
            "SELECT count(*) FROM chat_conversation WHERE name = @Name", new { Name = name }) == 1, TimeSpan.FromSeconds(10)));
    }
}
