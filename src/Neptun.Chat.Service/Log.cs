using Neptun.Session;

namespace Neptun.Chat.Service;

/// <summary>Every log line of the service, source-generated. None takes a cookie, a password or a connection string.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Session rejected for {Method}: {Rejection}")]
    public static partial void SessionRejected(ILogger logger, string method, SessionRejection rejection);

    // Debug, not Information: one line per request costs more CPU than the rest of the request's own work.
    [LoggerMessage(2, LogLevel.Debug, "Created chat {ChatId} for user {UserId} in project {ProjectId}")]
    public static partial void ChatCreated(ILogger logger, int chatId, int userId, int projectId);

    [LoggerMessage(4, LogLevel.Error, "Database call failed")]
    public static partial void DatabaseFailed(ILogger logger, Exception exception);

    /// <param name="where">A route (REST), a gRPC method (native), or the create writer.</param>
    [LoggerMessage(5, LogLevel.Error, "Unexpected failure in {Where}")]
    public static partial void UnexpectedFailure(ILogger logger, string where, Exception exception);

    [LoggerMessage(6, LogLevel.Information, "Database migrations applied: {ScriptCount} new script(s)")]
    public static partial void MigrationsApplied(ILogger logger, int scriptCount);

    [LoggerMessage(7, LogLevel.Information, "Purged {Count} expired request id(s)")]
    public static partial void ExpiredRequestIdsPurged(ILogger logger, int count);

    [LoggerMessage(8, LogLevel.Warning, "Purging expired request ids failed ({ExceptionType}, SQLSTATE {SqlState}); will try again")]
    public static partial void PurgeFailed(ILogger logger, string exceptionType, string? sqlState);

    [LoggerMessage(9, LogLevel.Information, "Replayed chat {ChatId} for user {UserId} from an earlier request with the same id")]
    public static partial void ChatReplayed(ILogger logger, int chatId, int userId);

    [LoggerMessage(10, LogLevel.Warning, "Database work did not finish by the create's deadline (the create timeout of {Seconds} s, or the call's own when nearer); it was rolled back")]
    public static partial void DatabaseTimedOut(ILogger logger, double seconds);

    [LoggerMessage(11, LogLevel.Information, "{HttpMethod} {Route} answered {StatusCode} (gRPC {GrpcStatus}) for user {UserId} from {ClientAddress} in {DurationMs:0.0} ms")]
    public static partial void RequestCompleted(ILogger logger, string httpMethod, string route, int statusCode, string? grpcStatus, int? userId, string? clientAddress, double durationMs);

    [LoggerMessage(12, LogLevel.Warning, "OpenAPI document written without the model enum: the database did not answer ({ExceptionType})")]
    public static partial void OpenApiModelsUnavailable(ILogger logger, string exceptionType);

    // Once per process, not at every check: the fix is the same until it is applied.
    [LoggerMessage(14, LogLevel.Error, "The database lacks migration scripts this version needs: {MissingScripts}. Not ready, and creates answer UNAVAILABLE, until they are applied: run migrate with this same binary or image (dotnet Neptun.Chat.Service.dll migrate)")]
    public static partial void DatabaseSchemaBehind(ILogger logger, string missingScripts);

    [LoggerMessage(15, LogLevel.Information, "The database schema is current: all {ScriptCount} migration scripts of this version are applied")]
    public static partial void DatabaseSchemaCurrent(ILogger logger, int scriptCount);

    [LoggerMessage(16, LogLevel.Warning, "The answer to a COMMIT was lost ({ExceptionType}); the database says the transaction {Outcome}")]
    public static partial void CommitOutcomeChecked(ILogger logger, string exceptionType, string outcome);

    // Once per outage, not per request: every create in it goes on without the shared limit.
    [LoggerMessage(17, LogLevel.Warning, "Redis did not answer ({ExceptionType}): requests go on without the shared rate limit until it does")]
    public static partial void SharedRateLimitUnavailable(ILogger logger, string exceptionType);

    [LoggerMessage(18, LogLevel.Information, "Redis answers again: the shared rate limit applies")]
    public static partial void SharedRateLimitResumed(ILogger logger);

    // Once per outage, not per create: every create in it is refused alike (503 with a retry pushback).
    [LoggerMessage(30, LogLevel.Warning, "The database is unavailable ({Reason}; {ExceptionType}, SQLSTATE {SqlState}): creates are answered 503 with a retry pushback until it answers again")]
    public static partial void DatabaseAway(ILogger logger, string reason, string exceptionType, string? sqlState);

    [LoggerMessage(31, LogLevel.Information, "The database answers again after {Seconds:0.0} s unavailable; {RefusedCreates} create(s) were refused meanwhile")]
    public static partial void DatabaseBack(ILogger logger, double seconds, long refusedCreates);

    [LoggerMessage(40, LogLevel.Warning, "{Count} log line(s) about requests without a valid session were left out (RequestLog:AnonymousLinesPerSecond)")]
    public static partial void AnonymousLinesLeftOut(ILogger logger, long count);
}
