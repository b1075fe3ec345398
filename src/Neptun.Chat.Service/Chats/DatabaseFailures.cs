using Grpc.Core;
using Npgsql;

namespace Neptun.Chat.Service.Chats;

/// <summary>Decides what a database failure means to the caller.</summary>
public static class DatabaseFailures
{
    private const string InvalidTextRepresentation = "22P02";
    private const string ForeignKeyViolation = "23503";

    public static RpcException ToRpcException(NpgsqlException exception, ILogger logger)
    {
        switch (exception)
        {
            // The enum lost or never had the value the catalog believed in: the caller's mistake.
            case PostgresException { SqlState: InvalidTextRepresentation }:
                return ChatErrors.InvalidBody([CreateProjectChatValidator.UnknownModel()]);

            // The project was deleted between the ownership check and the link.
            case PostgresException { SqlState: ForeignKeyViolation }:
                return ChatErrors.ProjectNotFound();
        }

        if (IsUnavailable(exception))
        {
            Log.DatabaseUnavailable(logger, exception.GetType().Name, (exception as PostgresException)?.SqlState);
            return ChatErrors.Unavailable();
        }

        Log.DatabaseFailed(logger, exception);
        return ChatErrors.Internal();
    }

    /// <summary>
    /// Whether a statement that wrote many creates may have failed for one of them (a foreign key,
    /// an enum value, a trigger, a deadlock with another batch) rather than for the database as a
    /// whole (a lost connection, a shutdown, no resources), so that each create is worth a try alone.
    /// </summary>
    public static bool MayBeOneCreates(PostgresException exception) => !IsAboutTheServer(exception.SqlState);

    private static bool IsUnavailable(NpgsqlException exception) =>
        exception.IsTransient || exception is PostgresException { SqlState: var state } && IsAboutTheServer(state);

    // Connection exceptions, operator intervention (shutdown, cancel), insufficient resources.
    private static bool IsAboutTheServer(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal);
}
