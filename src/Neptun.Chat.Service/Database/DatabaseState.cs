using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Dapper;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Errors;
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
            var models = await connection.QueryRowsAsync<string>(new CommandDefinition(ReadModelsSql, cancellationToken: cancellationToken));
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

        var applied = await connection.QueryRowsAsync<string>(new CommandDefinition(AppliedScriptsSql, cancellationToken: cancellationToken));
        return applied.ToHashSet(StringComparer.Ordinal);
    }
}

/// <summary>
/// Says what a failure of the database work behind a create means to its caller, for failures
/// after which nothing is written (before the statement, or a statement that rolled back). A
/// database that is away (unreachable, shutting down, no primary yet, read-only) is an outage:
/// 503 with a retry pushback, one Warning when it starts, one Information when the database
/// answers again, and a counter of the creates it refused.
/// </summary>
public sealed class DatabaseFailures
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly DatabaseSchemaState _schema;
    private readonly IOptions<DatabaseOptions> _database;
    private readonly ILogger<DatabaseFailures> _logger;
    private readonly Counter<long> _refused;

    // The refusals this class made for an outage, so that each caller they reach is counted once.
    private readonly ConditionalWeakTable<ApiException, object?> _outageRefusals = [];
    private int _away;
    private long _awaySince;
    private long _refusedInOutage;

    public DatabaseFailures(
        NpgsqlDataSource dataSource, DatabaseSchemaState schema, IOptions<DatabaseOptions> database, ILogger<DatabaseFailures> logger, IMeterFactory meterFactory)
    {
        _dataSource = dataSource;
        _schema = schema;
        _database = database;
        _logger = logger;
        _refused = meterFactory.Create(ServiceIdentity.MeterName).CreateCounter<long>(
            "neptun.chat.database.unavailable",
            unit: "{create}",
            description: "Creates refused with 503 because the database was away (unreachable, shutting down, no primary, read-only).");
    }

    /// <param name="exception">What the database work threw.</param>
    /// <param name="timedOut">Whether the create's deadline cut the work off.</param>
    public RpcException ToRpcException(Exception exception, bool timedOut)
    {
        switch (exception)
        {
            // A create before the schema was first read (at start, or while the database was
            // away): the missing table is the migration the check is about to report.
            case PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } when _schema.Status != SchemaStatus.Current:
                return ChatErrors.Unavailable();
        }

        if (WhyAway(exception) is { } reason)
        {
            if (exception is PostgresException { SqlState: SqlStates.ReadOnlySqlTransaction })
            {
                // A connection stays as read-only as it was opened (a proxy's session to a standby,
                // a read-only default taken at login), and nothing breaks it: the pool is emptied,
                // so that the next create connects afresh, through a proxy that may have switched.
                _dataSource.Clear();
            }

            OutageSeen(exception, reason);
            var refusal = ChatErrors.DatabaseUnavailable();
            _outageRefusals.AddOrUpdate(refusal, null);
            return refusal;
        }

        if (timedOut && exception is OperationCanceledException or NpgsqlException or TimeoutException)
        {
            // The database took longer than the create may wait (a full pool, a lock, a slow server).
            Log.DatabaseTimedOut(_logger, _database.Value.CreateTimeoutSeconds);
            return ChatErrors.Unavailable();
        }

        Log.DatabaseFailed(_logger, exception);
        return ChatErrors.Internal();
    }

    /// <summary>Counts <paramref name="refusal"/>, which reached one caller, when it is an outage's.</summary>
    public void CountOutageRefusal(Exception refusal)
    {
        if (refusal is ApiException api && _outageRefusals.TryGetValue(api, out _))
        {
            _refused.Add(1);
            Interlocked.Increment(ref _refusedInOutage);
        }
    }

    /// <summary>
    /// The database gave a create that arrived at <paramref name="arrived"/> (a <see cref="Stopwatch"/>
    /// timestamp) its outcome: an outage that began before then is over. A create that arrived
    /// earlier says nothing of the database now: its COMMIT may have been acknowledged just before
    /// a crash, and its answer reach its caller after the first refusals.
    /// </summary>
    public void DatabaseAnswered(long arrived)
    {
        if (Volatile.Read(ref _away) == 1 && arrived > Interlocked.Read(ref _awaySince) && Interlocked.Exchange(ref _away, 0) == 1)
        {
            var lasted = Stopwatch.GetElapsedTime(Interlocked.Read(ref _awaySince));
            Log.DatabaseBack(_logger, lasted.TotalSeconds, Interlocked.Exchange(ref _refusedInOutage, 0));
        }
    }

    /// <summary>
    /// Why <paramref name="exception"/> means that the database as a whole cannot take a create
    /// now, or null when it is about this create (or unexpected).
    /// </summary>
    public static string? WhyAway(Exception exception) => exception switch
    {
        PostgresException { SqlState: SqlStates.ReadOnlySqlTransaction } => "the server is read-only: a standby, or a proxy not yet switched to the new primary",
        PostgresException { SqlState: var state } when SqlStates.IsAboutTheServer(state) => "the server ended or refused the session",
        PostgresException => null,
        NpgsqlException { IsTransient: true } => "a connection was refused, reset or timed out",

        // Several hosts, each failed: Npgsql gathers their failures.
        NpgsqlException { InnerException: AggregateException hosts } when hosts.InnerExceptions.All(host => WhyAway(host) is not null) => "no host could be reached",

        // Several hosts, none in the wanted role (Target Session Attributes), as before a standby
        // is promoted: Npgsql's bare "No suitable host was found."
        NpgsqlException { InnerException: null } => "no host is in the wanted role (no primary)",
        _ => null,
    };

    private void OutageSeen(Exception exception, string reason)
    {
        // The start is written before the outage is: an answer seen during it is compared with its own start.
        if (Volatile.Read(ref _away) == 0)
        {
            Interlocked.Exchange(ref _awaySince, Stopwatch.GetTimestamp());
        }

        if (Interlocked.Exchange(ref _away, 1) == 0)
        {
            Log.DatabaseAway(_logger, reason, exception.GetType().Name, (exception as PostgresException)?.SqlState);
        }
    }
}
