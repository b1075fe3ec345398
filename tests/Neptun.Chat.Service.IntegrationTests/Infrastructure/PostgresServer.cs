using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// The throwaway PostgreSQL that scripts/test.sh starts with pg_virtualenv. Npgsql reads PGUSER and
/// PGPASSWORD itself but not PGHOST, PGPORT or PGDATABASE, so the connection string is built here.
/// </summary>
public static class PostgresServer
{
    public static string AdminConnectionString { get; } = BuildAdminConnectionString();

    private static string BuildAdminConnectionString()
    {
        var host = Environment.GetEnvironmentVariable("PGHOST");
        if (string.IsNullOrEmpty(host))
        {
            throw new InvalidOperationException("PGHOST is not set: run the tests through scripts/test.sh, which starts a throwaway PostgreSQL.");
        }

        return new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = int.TryParse(Environment.GetEnvironmentVariable("PGPORT"), out var port) ? port : 5432,
            Username = Environment.GetEnvironmentVariable("PGUSER") ?? "postgres",
            Password = Environment.GetEnvironmentVariable("PGPASSWORD"),
            Database = Environment.GetEnvironmentVariable("PGDATABASE") ?? "postgres",
            Pooling = false,
        }.ConnectionString;
    }
}
