using Microsoft.Extensions.Options;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>
/// Reads the migration journal at start and every <c>Database:SchemaCheckIntervalSeconds</c> until
/// the schema is current, so that a migration run later by another process makes the service ready
/// without a restart. Stops checking once it holds.
/// </summary>
public sealed class DatabaseSchemaWatch(DatabaseSchemaState schema, IOptions<DatabaseOptions> options, TimeProvider timeProvider)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SchemaCheckIntervalSeconds), timeProvider);
        do
        {
            using var checkTime = DatabaseCancellation.After(TimeSpan.FromSeconds(options.Value.CreateTimeoutSeconds), stoppingToken);
            try
            {
                if (await schema.CheckAsync(checkTime.Token) == SchemaStatus.Current)
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException && !stoppingToken.IsCancellationRequested)
            {
                // Unreachable or slow: the database health check reports that; try again next time.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
