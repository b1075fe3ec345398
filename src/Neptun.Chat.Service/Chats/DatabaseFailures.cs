using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Npgsql;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Says what a failure of the database work behind a create means to its caller, for failures
/// after which nothing is written (before the statement, or a statement that rolled back).
/// </summary>
public sealed class DatabaseFailures(DatabaseSchemaState schema, IOptions<DatabaseOptions> database, ILogger<DatabaseFailures> logger)
{
    /// <param name="exception">What the database work threw.</param>
    /// <param name="timedOut">Whether the create's deadline cut the work off.</param>
    public RpcException ToRpcException(Exception exception, bool timedOut)
    {
        switch (exception)
        {
            // A create before the schema was first read (at start, or while the database was
            // away): the missing table is the migration the check is about to report.
            case PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } when schema.Status != SchemaStatus.Current:
                return ChatErrors.Unavailable();
        }

        if (timedOut && exception is OperationCanceledException or NpgsqlException or TimeoutException)
        {
            // The database took longer than the create may wait (a full pool, a lock, a slow server).
            Log.DatabaseTimedOut(logger, database.Value.RequestTimeoutSeconds);
            return ChatErrors.Unavailable();
        }

        if (exception is NpgsqlException npgsql && (npgsql.IsTransient || npgsql is PostgresException { SqlState: var state } && SqlStates.IsAboutTheServer(state)))
        {
            Log.DatabaseUnavailable(logger, exception.GetType().Name, (exception as PostgresException)?.SqlState);
            return ChatErrors.Unavailable();
        }

        Log.DatabaseFailed(logger, exception);
        return ChatErrors.Internal();
    }
}
