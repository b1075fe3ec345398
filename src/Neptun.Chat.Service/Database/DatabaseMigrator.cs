using DbUp;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>
/// Runs the embedded SQL scripts with DbUp. Its journal lives in the service's own schema: drizzle
/// manages <c>public</c> and may drop tables it does not know.
/// </summary>
public sealed class DatabaseMigrator(IOptions<DatabaseOptions> options, ILogger<DatabaseMigrator> logger)
{
    public const string ServiceSchema = "neptun_chat_service";
    public const string JournalTable = "schema_versions";
    private const string ScriptFolder = ".Database.Migrations.";

    /// <summary>The scripts this version carries, by the names DbUp journals them under (their resource names).</summary>
    public static IReadOnlyList<string> ScriptNames { get; } = typeof(DatabaseMigrator).Assembly.GetManifestResourceNames()
        .Where(IsMigrationScript)
        .Order(StringComparer.Ordinal)
        .ToArray();

    // Any fixed number, shared by every replica of this service.
    private const long MigrationLockKey = 0x4e65_7074_756e_4d31;

    public void Migrate()
    {
        var connectionString = NeptunDataSourceFactory.BuildConnectionString(options.Value);

        // Replicas that start together would otherwise race on CREATE SCHEMA and the journal. A
        // transaction-scoped lock (not a session one) is also safe behind a transaction-mode
        // pooler: the open transaction keeps the same server connection until it ends.
        using var lockConnection = new NpgsqlConnection(connectionString);
        lockConnection.Open();
        using var lockTransaction = lockConnection.BeginTransaction();
        using (var takeLock = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", lockConnection, lockTransaction))
        {
            takeLock.Parameters.AddWithValue("key", MigrationLockKey);
            takeLock.ExecuteNonQuery();
        }

        var upgrader = DeployChanges.To
            .PostgresqlDatabase(connectionString, ServiceSchema)
            .JournalToPostgresqlTable(ServiceSchema, JournalTable)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, IsMigrationScript)
            .WithTransactionPerScript()
            .WithVariablesDisabled()
            .LogTo(logger)
            .Build();

        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"Database migration failed at script {result.ErrorScript?.Name}.", result.Error);
        }

        lockTransaction.Commit();
        Log.MigrationsApplied(logger, result.Scripts.Count());
    }

    /// <summary>A script's file name, e.g. <c>0002_idempotency_keys.sql</c>, for people to read.</summary>
    public static string FileName(string scriptName)
    {
        var folder = scriptName.IndexOf(ScriptFolder, StringComparison.Ordinal);
        return folder < 0 ? scriptName : scriptName[(folder + ScriptFolder.Length)..];
    }

    private static bool IsMigrationScript(string resourceName) =>
        resourceName.Contains(ScriptFolder, StringComparison.Ordinal) && resourceName.EndsWith(".sql", StringComparison.Ordinal);
}
