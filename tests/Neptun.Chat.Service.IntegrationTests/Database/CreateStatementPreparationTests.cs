using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>
/// The create statement, run through Dapper, reaches PostgreSQL as the same text every time: Npgsql
/// prepares it once per connection, and every later create on that connection runs that statement.
/// </summary>
public sealed class CreateStatementPreparationTests : IAsyncLifetime
{
    private const int Creates = 8;
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private ChatRepository _repository = null!;
    private int _userId;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        new DatabaseMigrator(Options.Create(new DatabaseOptions { ConnectionString = _database.ConnectionString }), NullLogger<DatabaseMigrator>.Instance).Migrate();
        var options = new DatabaseOptions { ConnectionString = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Pooling = true, MaxPoolSize = 1 }.ConnectionString };

        // One pooled connection (the test server's string turns pooling off), with the service's own
        // settings: every create and the check below share its backend.
        _dataSource = NpgsqlDataSource.Create(NeptunDataSourceFactory.BuildConnectionString(options));
        _repository = new ChatRepository(_dataSource, NullLogger<ChatRepository>.Instance);
        _userId = await NeptunRows.InsertUserAsync(_database);
        _projectId = await NeptunRows.InsertProjectAsync(_database, _userId);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_create_statement_is_prepared_once_per_connection_and_reused()
    {
        await CreateChatsAsync();
        var (statements, runsBefore) = await ReadPreparedCreateStatementAsync();
        Assert.Equal(1, statements);

        await CreateChatsAsync();
        var (statementsAfter, runsAfter) = await ReadPreparedCreateStatementAsync();
        Assert.Equal(1, statementsAfter);
        Assert.Equal(Creates, runsAfter - runsBefore);
    }

    private async Task CreateChatsAsync()
    {
        for (var i = 0; i < Creates; i++)
        {
            var chat = new NewProjectChat(_userId, _projectId, NeptunApiFixture.ValidModel, $"Prepared {i}", null, null);
            var results = await _repository.CreateProjectChatsAsync([chat], TimeSpan.FromHours(24), new CommitGate(), CancellationToken.None);
            Assert.Equal(StatementOutcome.Created, Assert.Single(results).Outcome);
        }
    }

    // The backend's prepared statements that are the create statement, and how often they were run
    // (each run chooses a generic or a custom plan).
    private async Task<(long Statements, long Runs)> ReadPreparedCreateStatementAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(long, long)>("""
            SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0)::bigint
            FROM pg_prepared_statements
            WHERE statement LIKE '%unnest(%WITH ORDINALITY AS r(user_id, project_id, model, name, request_id, request_hash, ord)%'
            """);
    }
}
