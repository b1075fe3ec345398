using System.Collections.Frozen;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>
/// Knows which model names the database accepts, so that a bad one is a 400 before any ownership
/// check. The web app adds models with ALTER TYPE at any time: an unknown name makes the catalog
/// read the enum again, but at most once per refresh interval, so bad input cannot turn every
/// request into an extra query.
/// </summary>
public sealed class AiModelCatalog(NpgsqlDataSource dataSource, IOptions<DatabaseOptions> options, TimeProvider timeProvider)
{
    private const string ReadModelsSql = """
        SELECT e.enumlabel
        FROM pg_catalog.pg_enum e
        JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typname = 'ai_model_enum'
        ORDER BY e.enumsortorder
        """;

    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile FrozenSet<string>? _models;
    private long _lastRefreshTimestamp;

    /// <summary>The models of the last read of the enum, without a lookup; null before the first.</summary>
    public IReadOnlyCollection<string>? Current => _models;

    /// <summary>True when the model is known from the last read of the enum; false says nothing.</summary>
    public bool IsKnownWithoutLookup(string model) => _models?.Contains(model) == true;

    public async ValueTask<bool> IsKnownAsync(string model, CancellationToken cancellationToken)
    {
        var models = _models;
        if (models is not null && models.Contains(model))
        {
            return true;
        }

        models = await RefreshAsync(force: models is null, cancellationToken);
        return models.Contains(model);
    }

    /// <summary>Every model the database accepts, read again when the refresh interval allows it.</summary>
    public async ValueTask<IReadOnlyCollection<string>> GetModelsAsync(CancellationToken cancellationToken) =>
        await RefreshAsync(force: _models is null, cancellationToken);

    private async Task<FrozenSet<string>> RefreshAsync(bool force, CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            var current = _models;
            var interval = TimeSpan.FromSeconds(options.Value.ModelCatalogRefreshSeconds);
            if (current is not null && (!force && timeProvider.GetElapsedTime(_lastRefreshTimestamp) < interval))
            {
                return current;
            }

            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var models = await connection.QueryAsync<string>(new CommandDefinition(ReadModelsSql, cancellationToken: cancellationToken));
            // The same set object while the list is the same, so that its readers see a change by reference.
            var read = models.ToFrozenSet(StringComparer.Ordinal);
            if (current is null || !current.SetEquals(read))
            {
                current = read;
                _models = current;
            }

            _lastRefreshTimestamp = timeProvider.GetTimestamp();
            return current;
        }
        finally
        {
            _refreshLock.Release();
        }
    }
}
