using Dapper;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>A database of its own for one test class, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private TestDatabase(string name, string adminConnectionString)
    {
        Name = name;
        _adminConnectionString = adminConnectionString;
    }

    public string Name { get; }

    public string ConnectionString => new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = Name }.ConnectionString;

    /// <param name="serverTimeZone">The TimeZone every session in this database starts with, as a server configured for another zone would.</param>
    /// <param name="adminConnectionString">Another server than scripts/test.sh's, such as a cluster a test starts and stops itself.</param>
    public static async Task<TestDatabase> CreateAsync(string? serverTimeZone = null, string? adminConnectionString = null)
    {
        var database = new TestDatabase($"neptun_test_{Guid.NewGuid():N}", adminConnectionString ?? PostgresServer.AdminConnectionString);
        await using var connection = new NpgsqlConnection(database._adminConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"CREATE DATABASE \"{database.Name}\"");
        if (serverTimeZone is not null)
        {
            await connection.ExecuteAsync($"ALTER DATABASE \"{database.Name}\" SET timezone TO '{serverTimeZone}'");
        }

        return database;
    }

    /// <summary>The same database on another server, such as the standby promoted after its primary failed.</summary>
    public TestDatabase OnServer(string adminConnectionString) => new(Name, adminConnectionString);

    /// <summary>A connection that has not asked for UTC: it sees the database's own TimeZone.</summary>
    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<T>(sql, parameters) ?? throw new InvalidOperationException($"No value from: {sql}");
    }

    /// <summary>The service's statements waiting on a lock now.</summary>
    public Task<long> CountServiceStatementsWaitingOnLockAsync() => ScalarAsync<long>("""
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'neptun-chat-service' AND wait_event_type = 'Lock'
        """);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }
}
