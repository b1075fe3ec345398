using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.HealthProbes;
using Neptun.Chat.Service.IntegrationTests.Api;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>
/// The schema state against real databases: behind by exactly what is missing, current when every
/// script is applied (more is fine), unknown (not behind) when the database does not answer; and
/// in the real pipeline, a probe reads the journal itself and a missing table is never a 500.
/// </summary>
public sealed class SchemaStateTests : IAsyncLifetime
{
    private const string IdempotencyScript = "0002_idempotency_keys.sql";
    private readonly CapturedLogs _logs = new();
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await WebAppSchema.CreateAsync(_database);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task The_web_apps_tables_alone_are_behind_once_logged_and_current_after_migrate()
    {
        await using var dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        var schema = NewState(dataSource);

        Assert.Equal(SchemaStatus.Behind, await schema.CheckAsync(CancellationToken.None));
        Assert.Equal(SchemaStatus.Behind, await schema.CheckAsync(CancellationToken.None));
        var behind = Assert.Single(_logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal));
        Assert.Contains("0001_neptun_public_schema.sql, " + IdempotencyScript, behind, StringComparison.Ordinal);
        Assert.False(schema.WhenCurrent.IsCompleted);

        Migrate();

        Assert.Equal(SchemaStatus.Current, await schema.CheckAsync(CancellationToken.None));
        Assert.True(schema.WhenCurrent.IsCompletedSuccessfully);
        Assert.Single(_logs.Lines, line => line.StartsWith("Information", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_journal_without_one_script_is_behind_by_that_script()
    {
        Migrate();
        await _database.ExecuteAsync(
            $"DELETE FROM {DatabaseMigrator.ServiceSchema}.{DatabaseMigrator.JournalTable} WHERE scriptname LIKE @Script", new { Script = "%" + IdempotencyScript });
        await using var dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        var schema = NewState(dataSource);

        Assert.Equal(SchemaStatus.Behind, await schema.CheckAsync(CancellationToken.None));
        var behind = Assert.Single(_logs.Lines);
        Assert.Contains("lacks migration scripts this version needs: " + IdempotencyScript + ".", behind, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_with_a_script_of_a_newer_version_is_current()
    {
        Migrate();
        await _database.ExecuteAsync(
            $"INSERT INTO {DatabaseMigrator.ServiceSchema}.{DatabaseMigrator.JournalTable} (scriptname, applied) VALUES ('Neptun.Chat.Service.Database.Migrations.0003_newer.sql', now())");
        await using var dataSource = NpgsqlDataSource.Create(_database.ConnectionString);

        Assert.Equal(SchemaStatus.Current, await NewState(dataSource).CheckAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_database_that_does_not_answer_is_unknown_not_behind()
    {
        await using var dataSource = NpgsqlDataSource.Create(UnreachableDatabase.ConnectionString);
        var schema = NewState(dataSource);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => schema.CheckAsync(CancellationToken.None));

        Assert.Equal(SchemaStatus.Unknown, schema.Status);
        Assert.Empty(_logs.Lines);
    }

    [Fact]
    public async Task A_readiness_probe_reads_the_journal_itself_so_a_migration_is_seen_once_the_cached_result_expires()
    {
        // The scheduled check runs once at start and not again during the test.
        await using var factory = new ChatServiceFactory(_database.ConnectionString, new Dictionary<string, string?>
        {
            ["Database:MigrateOnStartup"] = "false",
            ["Database:SchemaCheckIntervalSeconds"] = "3600",
        });
        using var client = factory.CreateOperationsClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);

        factory.Services.GetRequiredService<DatabaseMigrator>().Migrate();

        // A probe's result stands for a second, whoever asks; the next probe reads the journal.
        await Task.Delay(DatabaseReadinessCheck.ResultLifetime);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/ready")).StatusCode);
    }

    [Fact]
    public async Task A_create_before_the_schema_was_read_is_503_not_500_on_an_unmigrated_database()
    {
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        var projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);

        // A schema state whose journal reads never answer stays Unknown, as at the very start.
        await using var unreachable = NpgsqlDataSource.Create(UnreachableDatabase.ConnectionString);
        await using var factory = new ChatServiceFactory(_database.ConnectionString, new Dictionary<string, string?> { ["Database:MigrateOnStartup"] = "false" })
        {
            TestServices = services => services.AddSingleton(NewState(unreachable)),
        };
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, projectId, Sessions.CookieFor(NeptunApiFixture.AdaId)));

        Assert.Equal(SchemaStatus.Unknown, factory.Services.GetRequiredService<DatabaseSchemaState>().Status);
        await RestErrorContract.AssertErrorBody(response, 503, "Service Unavailable");
    }

    private DatabaseSchemaState NewState(NpgsqlDataSource dataSource)
    {
        var loggers = LoggerFactory.Create(logging => logging.AddProvider(_logs));
        return new DatabaseSchemaState(dataSource, loggers.CreateLogger<DatabaseSchemaState>());
    }

    private void Migrate()
    {
        var options = Options.Create(new DatabaseOptions { ConnectionString = _database.ConnectionString });
        new DatabaseMigrator(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<DatabaseMigrator>.Instance).Migrate();
    }
}
