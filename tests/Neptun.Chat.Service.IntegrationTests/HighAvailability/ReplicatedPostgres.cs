using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.HighAvailability;

/// <summary>
/// Two real clusters on this machine: a primary and its synchronous streaming standby
/// (<c>pg_basebackup -R</c>, <c>synchronous_commit = on</c>, <c>synchronous_standby_names = '*'</c>),
/// with a test database on both (the standby replays it).
/// </summary>
public sealed class ReplicatedPostgres : IAsyncDisposable
{
    private ReplicatedPostgres(OwnPostgresCluster primary, OwnPostgresCluster standby, TestDatabase database)
    {
        Primary = primary;
        Standby = standby;
        Database = database;
    }

    public OwnPostgresCluster Primary { get; }
    public OwnPostgresCluster Standby { get; }

    /// <summary>The test database, read and written through the primary.</summary>
    public TestDatabase Database { get; }

    /// <summary>The same database through the standby, which is where it lives once the standby is promoted.</summary>
    public TestDatabase OnStandby => Database.OnServer(Standby.AdminConnectionString);

    public static async Task<ReplicatedPostgres> StartAsync()
    {
        var primary = await OwnPostgresCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(adminConnectionString: primary.AdminConnectionString);
        var standby = await primary.StartStandbyAsync();
        await primary.RequireSynchronousStandbyAsync();
        return new ReplicatedPostgres(primary, standby, database);
    }

    /// <summary>The keyword form: both hosts, primary first, and only a primary will do.</summary>
    public string KeywordConnectionString => new NpgsqlConnectionStringBuilder(Pooled(Database.ConnectionString))
    {
        Host = $"127.0.0.1:{Primary.Port},127.0.0.1:{Standby.Port}",
        TargetSessionAttributes = "primary",
    }.ConnectionString;

    /// <summary>The libpq URI form the web app uses, with both hosts.</summary>
    public string UriConnectionString =>
        $"postgresql://postgres@127.0.0.1:{Primary.Port},127.0.0.1:{Standby.Port}/{Database.Name}?target_session_attrs=read-write";

    /// <summary>One address for the database: <paramref name="port"/> (a proxy in front of both).</summary>
    public string ConnectionStringThrough(int port) => new NpgsqlConnectionStringBuilder(Pooled(Database.ConnectionString)) { Port = port }.ConnectionString;

    /// <summary>
    /// <paramref name="connectionString"/> with the pool on, as the service runs in production: a
    /// test database's connection string has it off (its admin connections leave nothing behind),
    /// and what the pool keeps across an outage is part of what these tests test.
    /// </summary>
    public static string Pooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = true }.ConnectionString;

    /// <summary>Ada and a project of hers, once a service has migrated the database; returns the project.</summary>
    public async Task<int> SeedAsync()
    {
        await NeptunRows.InsertUserAsync(Database, NeptunApiFixture.AdaId);
        return await NeptunRows.InsertProjectAsync(Database, NeptunApiFixture.AdaId);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
    }
}
