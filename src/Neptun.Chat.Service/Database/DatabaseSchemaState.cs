using Dapper;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>What the service knows of its database's schema.</summary>
public enum SchemaStatus
{
    /// <summary>Not read yet, or the database did not answer: the database health check speaks for it.</summary>
    Unknown,

    /// <summary>Scripts this version needs are missing: not ready, creates answer UNAVAILABLE.</summary>
    Behind,

    /// <summary>Every script this version carries is applied; more (from a newer version) is fine.</summary>
    Current,
}

/// <summary>
/// Compares the migration journal with the scripts this version carries. Current is final: once
/// every script is applied, nothing this service runs takes one away, so the journal is not read again.
/// </summary>
public sealed class DatabaseSchemaState(NpgsqlDataSource dataSource, ILogger<DatabaseSchemaState> logger)
{
    private const string Journal = $"{DatabaseMigrator.ServiceSchema}.{DatabaseMigrator.JournalTable}";

    // A database that was never migrated has no journal: nothing is applied. Asked first, so that
    // such a database does not log a missing relation at every check.
    private const string JournalExistsSql = $"SELECT to_regclass('{Journal}') IS NOT NULL";
    private const string AppliedScriptsSql = $"SELECT scriptname FROM {Journal}";

    private readonly SemaphoreSlim _checking = new(1, 1);
    private readonly TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile SchemaStatus _status;

    public SchemaStatus Status => _status;

    /// <summary>Completes once the schema is current, for work that needs the service's own tables.</summary>
    public Task WhenCurrent => _current.Task;

    /// <summary>
    /// Reads the journal unless the schema is already known to be current. Logs once when it first
    /// finds the schema behind and once when it finds it current. Throws what Npgsql throws when the
    /// database does not answer; the status is then left as it was.
    /// </summary>
    public async Task<SchemaStatus> CheckAsync(CancellationToken cancellationToken)
    {
        if (_status == SchemaStatus.Current)
        {
            return SchemaStatus.Current;
        }

        await _checking.WaitAsync(cancellationToken);
        try
        {
            if (_status == SchemaStatus.Current)
            {
                return SchemaStatus.Current;
            }

            var applied = await ReadAppliedScriptsAsync(cancellationToken);
            var missing = DatabaseMigrator.ScriptNames.Where(script => !applied.Contains(script)).ToList();
            if (missing.Count == 0)
            {
                _status = SchemaStatus.Current;
                _current.TrySetResult();
                Log.DatabaseSchemaCurrent(logger, DatabaseMigrator.ScriptNames.Count);
            }
            else if (_status != SchemaStatus.Behind)
            {
                _status = SchemaStatus.Behind;
                Log.DatabaseSchemaBehind(logger, string.Join(", ", missing.Select(DatabaseMigrator.FileName)));
            }

            return _status;
        }
        finally
        {
            _checking.Release();
        }
    }

    private async Task<HashSet<string>> ReadAppliedScriptsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(JournalExistsSql, cancellationToken: cancellationToken)))
        {
            return [];
        }

        var applied = await connection.QueryAsync<string>(new CommandDefinition(AppliedScriptsSql, cancellationToken: cancellationToken));
        return applied.ToHashSet(StringComparer.Ordinal);
    }
}
