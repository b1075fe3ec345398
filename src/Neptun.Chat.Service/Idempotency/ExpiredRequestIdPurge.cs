using Dapper;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Npgsql;

namespace Neptun.Chat.Service.Idempotency;

/// <summary>
/// Deletes expired request ids from inside the service, so that no cron job is needed. Every
/// instance runs it; concurrent purges only delete the same rows. A database that is down is
/// simply tried again at the next interval.
/// </summary>
public sealed class ExpiredRequestIdPurge(
    NpgsqlDataSource dataSource, DatabaseSchemaState schema, IOptions<IdempotencyOptions> options, TimeProvider timeProvider, ILogger<ExpiredRequestIdPurge> logger)
    : BackgroundService
{
    private const string PurgeExpiredRequestsSql = $"""
        DELETE FROM {DatabaseMigrator.ServiceSchema}.idempotency_key
        WHERE ctid IN (SELECT ctid FROM {DatabaseMigrator.ServiceSchema}.idempotency_key WHERE expires_at <= now() LIMIT @BatchSize)
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Until migrate has run, the table of request ids does not exist.
        await schema.WhenCurrent.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.PurgeIntervalSeconds), timeProvider);
        using var stopping = DatabaseCancellation.When(stoppingToken);
        do
        {
            try
            {
                await PurgeAsync(stopping.Token);
            }
            catch (NpgsqlException exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PurgeFailed(logger, exception.GetType().Name, (exception as PostgresException)?.SqlState);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes every expired request id, one bounded batch at a time; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var batchSize = options.Value.PurgeBatchSize;
        var total = 0;
        int deleted;
        do
        {
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                deleted = await connection.ExecuteAsync(
                    new CommandDefinition(PurgeExpiredRequestsSql, new { BatchSize = batchSize }, cancellationToken: cancellationToken));
            }

            total += deleted;
        }
        while (deleted == batchSize);

        if (total > 0)
        {
            Log.ExpiredRequestIdsPurged(logger, total);
        }

        return total;
    }
}
