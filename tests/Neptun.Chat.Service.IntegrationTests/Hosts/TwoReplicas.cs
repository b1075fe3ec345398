using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Hosts;

/// <summary>
/// Two replicas of the service, processes of their own, on one database with Ada's project, and
/// what each served as its own metrics say, as an operator would see it. Processes, not in-process
/// hosts: hosts in one process share their meters' listeners, so each would report the other's
/// requests too.
/// </summary>
public sealed class TwoReplicas : IAsyncDisposable
{
    private TwoReplicas(TestDatabase database, ServiceProcess[] replicas, int projectId)
    {
        Database = database;
        Replicas = replicas;
        ProjectId = projectId;
    }

    public TestDatabase Database { get; }

    public IReadOnlyList<ServiceProcess> Replicas { get; }

    public int ProjectId { get; }

    public static async Task<TwoReplicas> StartAsync()
    {
        var database = await TestDatabase.CreateAsync();

        // One after the other: two cold starts at once on a busy 2-core machine can miss the
        // database's connect timeout while migrating.
        ServiceProcess[] replicas = [await ServiceProcess.StartAsync(database.ConnectionString), await ServiceProcess.StartAsync(database.ConnectionString)];
        await NeptunRows.InsertUserAsync(database, NeptunApiFixture.AdaId);
        return new TwoReplicas(database, replicas, await NeptunRows.InsertProjectAsync(database, NeptunApiFixture.AdaId));
    }

    /// <summary>
    /// Each replica's count of finished requests whose duration series match all of
    /// <paramref name="filters"/>, read again until they add up to <paramref name="expected"/>: a
    /// replica records a request as it ends, which can be just after its client has the reply.
    /// Read at least once, so 0 expected reads the counts as they are.
    /// </summary>
    public async Task<double[]> ServedAsync(int expected, params string[] filters)
    {
        var served = new double[Replicas.Count];
        for (var attempt = 0; attempt == 0 || (attempt < 50 && served.Sum() < expected); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 100);
            for (var i = 0; i < Replicas.Count; i++)
            {
                using var operations = new HttpClient { BaseAddress = Replicas[i].OperationsAddress };
                var scrape = await operations.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                served[i] = PrometheusScrape.Sum(scrape, "http_server_request_duration_seconds_count", filters);
            }
        }

        return served;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        await Database.DisposeAsync();
    }
}
