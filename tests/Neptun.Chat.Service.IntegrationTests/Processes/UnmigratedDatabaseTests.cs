using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.HealthProbes;
using Neptun.Chat.Service.IntegrationTests.Api;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// The service in Production against a database it has not migrated, as an operator whose migrate
/// job did not run would start it: not ready and UNAVAILABLE (never 500) with one log line that
/// names the fix; then <c>migrate</c>, run as a separate process of the same binary, makes the
/// running service ready without a restart. A database migrated by a newer version is ready.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class UnmigratedDatabaseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string SchemaStateCategory = "\"Category\":\"Neptun.Chat.Service.Database.DatabaseSchemaState\"";
    private static readonly TimeSpan LogLimit = TimeSpan.FromSeconds(20);

    // Ten of the test's 1 s check intervals. Without the periodic check, only the health check
    // publisher (every 30 s) would notice the migration.
    private static readonly TimeSpan ServedLimit = TimeSpan.FromSeconds(10);

    private static readonly Dictionary<string, string> WithoutMigrating = new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Database__MigrateOnStartup"] = "false",
        ["Database__SchemaCheckIntervalSeconds"] = "1",
    };

    private TestDatabase _database = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await WebAppSchema.CreateAsync(_database);
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        _projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task On_the_web_apps_tables_alone_it_is_not_ready_until_migrate_runs_then_ready_without_a_restart()
    {
        await using var service = await ServiceProcess.StartAsync(_database.ConnectionString, WithoutMigrating, untilReady: false);
        using var rest = new HttpClient { BaseAddress = service.RestAddress };
        using var operations = new HttpClient { BaseAddress = service.OperationsAddress };

        var logged = await Polling.UntilAsync(() => Task.FromResult(SchemaLines(service, "Error").Count > 0), LogLimit);
        Assert.True(logged is not null, $"no Error line about the schema:{Environment.NewLine}{service.Output}");
        var line = SchemaLines(service, "Error")[0];
        // No journal at all: the first script is missing from it too, although its tables exist (it creates only what is absent).
        Assert.Contains("0001_neptun_public_schema.sql, 0002_idempotency_keys.sql", line, StringComparison.Ordinal);
        Assert.Contains("dotnet Neptun.Chat.Service.dll migrate", line, StringComparison.Ordinal);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await service.HealthAsync(""));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await service.HealthAsync());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await service.HealthAsync("liveness"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await operations.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await operations.GetAsync("/healthz/live")).StatusCode);
        using (var response = await rest.SendAsync(CreateRequest()))
        {
            await RestErrorContract.AssertErrorBody(response, 503, "Service Unavailable");
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => service.CreateChatClient().CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = NeptunApiFixture.ValidModel, Name = "Too early" },
            new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } },
            DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(0, await NeptunRows.CountChatsAsync(_database));

        // Refused before any database work, not by a failed insert into the missing table.
        Assert.DoesNotContain(service.Lines, line => line.Contains("42P01", StringComparison.Ordinal));

        await ServiceProcess.RunCommandAsync(_database.ConnectionString, "migrate");

        // Creates only, no probe: the service's own periodic check must notice the migration.
        var created = HttpStatusCode.ServiceUnavailable;
        var servedAfter = await Polling.UntilAsync(async () =>
        {
            using var response = await rest.SendAsync(CreateRequest());
            created = response.StatusCode;
            return created != HttpStatusCode.ServiceUnavailable;
        }, ServedLimit);
        Figures.Report(output, $"unmigrated database: first create served {Milliseconds(servedAfter)} ms after migrate exited (schema check every 1 s)");
        Assert.True(servedAfter is not null, $"creates still answered 503 {ServedLimit} after migrate:{Environment.NewLine}{service.Output}");
        Assert.Equal(HttpStatusCode.Created, created);

        // Readiness answers from a probe's result for a second after it (DatabaseReadinessCheck):
        // ready once the result taken before the migration has expired.
        var readyAfter = await Polling.UntilAsync(async () =>
        {
            using var ready = await operations.GetAsync("/healthz/ready");
            return ready.StatusCode == HttpStatusCode.OK;
        }, DatabaseReadinessCheck.ResultLifetime + TimeSpan.FromSeconds(2));
        Assert.True(readyAfter is not null, "not ready after the migration, once the cached probe result expired");
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await service.HealthAsync(""));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await service.HealthAsync());
        Assert.Single(SchemaLines(service, "Error"));
        Assert.Single(SchemaLines(service, "Information"));
    }

    [Fact]
    public async Task A_database_migrated_by_a_newer_version_is_ready()
    {
        await ServiceProcess.RunCommandAsync(_database.ConnectionString, "migrate");
        await _database.ExecuteAsync(
            $"INSERT INTO {DatabaseMigrator.ServiceSchema}.{DatabaseMigrator.JournalTable} (scriptname, applied) VALUES (@Script, now())",
            new { Script = "Neptun.Chat.Service.Database.Migrations.0003_from_a_newer_version.sql" });

        await using var service = await ServiceProcess.StartAsync(_database.ConnectionString, WithoutMigrating);
        using var rest = new HttpClient { BaseAddress = service.RestAddress };

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await service.HealthAsync(""));
        using var response = await rest.SendAsync(CreateRequest());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Empty(SchemaLines(service, "Error"));
    }

    private HttpRequestMessage CreateRequest() =>
        ChatRequests.Create(NeptunApiFixture.AdaId, _projectId, Sessions.CookieFor(NeptunApiFixture.AdaId));

    private static List<string> SchemaLines(ServiceProcess service, string level) =>
        service.Lines
            .Where(line => line.Contains(SchemaStateCategory, StringComparison.Ordinal) && line.Contains($"\"LogLevel\":\"{level}\"", StringComparison.Ordinal))
            .ToList();

    private static string Milliseconds(TimeSpan? time) => time is { } t ? t.TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) : "never";
}
