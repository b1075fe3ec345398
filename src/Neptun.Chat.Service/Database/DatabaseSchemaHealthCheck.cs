using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>
/// Readiness: not ready while the database lacks scripts this version needs, since a restart
/// cannot fix that but a migration can. Until the schema is current a probe reads the journal
/// itself, so that readiness never waits for the next scheduled check.
/// </summary>
public sealed class DatabaseSchemaHealthCheck(DatabaseSchemaState schema) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await schema.CheckAsync(cancellationToken) switch
            {
                SchemaStatus.Current => HealthCheckResult.Healthy(),
                _ => HealthCheckResult.Unhealthy("The database lacks migration scripts this version needs: run migrate."),
            };
        }
        catch (NpgsqlException)
        {
            return HealthCheckResult.Unhealthy("The database did not answer: its schema is unknown.");
        }
    }
}
