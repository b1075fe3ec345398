using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.HighAvailability;

/// <summary>
/// Each way a real PostgreSQL can be away is 503 / UNAVAILABLE with a retry pushback (never 500),
/// logged once when the outage starts and once when it ends, and counted in
/// <c>neptun_chat_database_unavailable_total</c>; creates go on once the database is back.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class DatabaseAwayTests
{
    private const int Refusals = 3;
    private static readonly TimeSpan BackWithin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Only_a_standby_reachable_is_503_until_it_is_promoted()
    {
        await using var postgres = await ReplicatedPostgres.StartAsync();
        await using var service = await ServiceProcess.StartAsync(postgres.KeywordConnectionString);
        var projectId = await service.ServeAdaProjectAsync(postgres.Database);

        await postgres.Primary.StopAsync();
        await AssertRefusedAsync(service, projectId, expectedReason: null);
        await postgres.Standby.PromoteAsync();
        await AssertBackAsync(service, projectId);
    }

    [Fact]
    public async Task A_stopped_server_is_503_until_it_is_started_again()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: cluster.AdminConnectionString);
        await using var service = await ServiceProcess.StartAsync(ReplicatedPostgres.Pooled(database.ConnectionString));
        var projectId = await service.ServeAdaProjectAsync(database);

        await cluster.StopAsync();
        await AssertRefusedAsync(service, projectId, expectedReason: null);
        await cluster.StartAgainAsync();
        await AssertBackAsync(service, projectId);
    }

    [Fact]
    public async Task A_read_only_database_is_503_until_it_takes_writes_again()
    {
        await using var cluster = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: cluster.AdminConnectionString);
        await using var service = await ServiceProcess.StartAsync(ReplicatedPostgres.Pooled(database.ConnectionString));
        var projectId = await service.ServeAdaProjectAsync(database);

        // As a standby behind a proxy that has not switched yet: sessions that cannot write. The
        // service's sessions are ended so that it opens new ones, which take the setting.
        await AsAdminAsync(cluster, $"ALTER DATABASE \"{database.Name}\" SET default_transaction_read_only = on");
        await AsAdminAsync(cluster, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'neptun-chat-service'");
        await AssertRefusedAsync(service, projectId, expectedReason: null);

        // The sessions opened while it was read-only stay so: the service must not keep them.
        await AsAdminAsync(cluster, $"ALTER DATABASE \"{database.Name}\" RESET default_transaction_read_only");
        await AssertBackAsync(service, projectId);
    }

    private static async Task AsAdminAsync(OwnPostgresCluster cluster, string sql)
    {
        await using var connection = new NpgsqlConnection(cluster.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }


    /// <summary>
    /// <see cref="Refusals"/> creates over REST and as many over gRPC, each 503 / UNAVAILABLE with
    /// a retry pushback; one line says the outage started (for <paramref name="expectedReason"/>,
    /// when given), none is an Error, and the counter counts every refusal so far.
    /// </summary>
    private static async Task AssertRefusedAsync(ServiceProcess service, int projectId, string? expectedReason)
    {
        using var rest = new HttpClient { BaseAddress = service.RestAddress };
        for (var i = 0; i < Refusals; i++)
        {
            using var response = await rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, projectId, Sessions.CookieFor(NeptunApiFixture.AdaId)));
            Assert.Equal(503, (int)response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"no Retry-After on a 503: {response.Headers}");

            var error = await Assert.ThrowsAsync<RpcException>(() => CreateAsync(service, projectId).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.NotNull(error.Trailers.Get("grpc-retry-pushback-ms"));
        }

        var lines = service.Lines;
        var started = lines.Where(line => line.Contains("The database is unavailable (", StringComparison.Ordinal)).ToList();
        Assert.True(started.Count == 1, $"expected one line for the outage's start:{Environment.NewLine}{service.Output}");
        Assert.True(expectedReason is null || started[0].Contains(expectedReason, StringComparison.Ordinal), started[0]);
        Assert.DoesNotContain(lines, line => line.Contains("Database call failed", StringComparison.Ordinal));
        Assert.Equal(2 * Refusals, await RefusedCountAsync(service));
    }

    /// <summary>A create is answered 201 soon after the database is back, and one line says the outage ended.</summary>
    private static async Task AssertBackAsync(ServiceProcess service, int projectId)
    {
        var back = await Polling.UntilAsync(async () =>
        {
            try
            {
                await CreateAsync(service, projectId);
                return true;
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, BackWithin);

        Assert.True(back is not null, $"no create answered 201 within {BackWithin} of the database's return:{Environment.NewLine}{service.Output}");
        Assert.Single(service.Lines, line => line.Contains("The database answers again after", StringComparison.Ordinal));
    }

    private static AsyncUnaryCall<CreateProjectChatResponse> CreateAsync(ServiceProcess service, int projectId) =>
        service.CreateChatClient().CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = "away" },
            new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } },
            DateTime.UtcNow.AddSeconds(10));

    private static async Task<double> RefusedCountAsync(ServiceProcess service)
    {
        using var operations = new HttpClient { BaseAddress = service.OperationsAddress };
        var scrape = await operations.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return PrometheusScrape.Sum(scrape, "neptun_chat_database_unavailable_total");
    }
}
