using DbUp;
using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.Database;

/// <summary>
/// Runs the embedded SQL scripts with DbUp. Its journal lives in the service's own schema: drizzle
/// manages <c>public</c> and may drop tables it does not know.
/// </summary>
public sealed class DatabaseMigrator(IOptions<DatabaseOptions> options, ILogger<DatabaseMigrator> logger)
{
    public const string ServiceSchema = "neptun_chat_service";
    private const string JournalTable = "schema_versions";

    public void Migrate()
    {
        var connectionString = NeptunDataSourceFactory.BuildConnectionString(options.Value);
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

        Log.MigrationsApplied(logger, result.Scripts.Count());
    }

    private static bool IsMigrationScript(string resourceName) =>
        resourceName.Contains(".Database.Migrations.", StringComparison.Ordinal) && resourceName.EndsWith(".sql", StringComparison.Ordinal);
}
