using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Neptun.Chat.Service.Database;
using Npgsql;

namespace Neptun.Chat.Service.HealthProbes;

/// <summary>
/// Readiness' database check, shared by gRPC health and the HTTP probes: the database answers, and
/// it holds every migration script this version needs (a restart cannot fix that, a migration can).
/// Anyone may ask gRPC health on the public port without a session, so asking costs no database
/// work: one probe runs at a time, on one pooled connection, and its result answers every check
/// for <see cref="ResultLifetime"/> after it ended.
/// </summary>
public sealed class DatabaseReadinessCheck(NpgsqlDataSource dataSource, DatabaseSchemaState schema, TimeProvider time) : IHealthCheck
{
    /// <summary>
    /// How long a probe's result stands. Short enough that an outage turns readiness NOT_SERVING
    /// (and the end of one, SERVING) within a couple of seconds; long enough that a flood of checks
    /// makes at most one database round trip a second.
    /// </summary>
    public static readonly TimeSpan ResultLifetime = TimeSpan.FromSeconds(1);

    /// <summary>The most one probe waits for the database, whoever asked.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly Lock _probing = new();
    private Task<HealthCheckResult>? _probe;
    private long _probeEndedAt;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<HealthCheckResult> probe;
        lock (_probing)
        {
            if (_probe is null || (_probe.IsCompleted && time.GetElapsedTime(_probeEndedAt) >= ResultLifetime))
            {
                // Not the caller's token: the probe answers every caller, and one leaving must not cancel it.
                _probe = Task.Run(ProbeAsync, CancellationToken.None);
            }

            probe = _probe;
        }

        return probe.WaitAsync(cancellationToken);
    }

    private async Task<HealthCheckResult> ProbeAsync()
    {
        using var timeout = DatabaseCancellation.After(ProbeTimeout);
        try
        {
            await using (var connection = await dataSource.OpenConnectionAsync(timeout.Token))
            {
                await connection.ExecuteAsync(new CommandDefinition("SELECT 1", cancellationToken: timeout.Token));
            }

            return await schema.CheckAsync(timeout.Token) == SchemaStatus.Current
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database lacks migration scripts this version needs: run migrate.");
        }
        catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The database did not answer.");
        }
        finally
        {
            _probeEndedAt = time.GetTimestamp();
        }
    }
}
