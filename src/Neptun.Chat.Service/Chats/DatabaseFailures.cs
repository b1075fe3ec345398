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

    private static bool IsUnavailable(NpgsqlException exception) =>
        exception.IsTransient
        || exception is PostgresException { SqlState: var state } && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57P", StringComparison.Ordinal) || state == "53300");
}
