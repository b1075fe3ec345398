using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Errors;
using Npgsql;

namespace Neptun.Chat.Service.Chats;

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
            Log.DatabaseTimedOut(_logger, _database.Value.RequestTimeoutSeconds);
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

    /// <summary>The database gave a create its outcome: an outage, if one was under way, is over.</summary>
    public void DatabaseAnswered()
    {
        if (Volatile.Read(ref _away) == 1 && Interlocked.Exchange(ref _away, 0) == 1)
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
        if (Volatile.Read(ref _away) == 0 && Interlocked.Exchange(ref _away, 1) == 0)
        {
            Interlocked.Exchange(ref _awaySince, Stopwatch.GetTimestamp());
            Log.DatabaseAway(_logger, reason, exception.GetType().Name, (exception as PostgresException)?.SqlState);
        }
    }
}
