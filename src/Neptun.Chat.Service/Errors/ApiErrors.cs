using Grpc.Core;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Limits;

namespace Neptun.Chat.Service.Errors;

/// <summary>
/// One failure of the API and what each surface answers for it.
/// </summary>
/// <param name="Case">When it happens, as the README's error table and the OpenAPI document say it.</param>
/// <param name="RestStatus">The REST route's HTTP status.</param>
/// <param name="GrpcStatus">The native gRPC status; null when only the REST route can fail so.</param>
/// <param name="Message">The REST body's <c>message</c> (the web app's text), and the gRPC status message the service writes.</param>
/// <param name="Fields">The fields its field violations may name (REST <c>data.fieldViolations</c>, gRPC <c>google.rpc.BadRequest</c>).</param>
public sealed record ApiError(string Case, int RestStatus, StatusCode? GrpcStatus, string Message, params string[] Fields);

/// <summary>
/// The error table of the API, the one place it is written. The service and its interceptors
/// throw these rows as <see cref="ApiException"/>, the limits refuse with them, the REST contract writes them and the OpenAPI
/// document lists them; tests pin the rows to the web app's values and to the README's table.
/// No message says more than the caller may know.
/// </summary>
public static class ApiErrors
{
    public static readonly ApiError Unauthenticated = new(
        "no `neptun-session`, or a seal that is malformed, tampered, expired, older than `Session__MaxAgeSeconds`, sealed with another password, or holds no user",
        StatusCodes.Status401Unauthorized, StatusCode.Unauthenticated, "Unauthorized");

    public static readonly ApiError InvalidBody = new(
        $"the body is not JSON or of the wrong JSON types, `model`/`name` is missing, `model` is not one of the database's `ai_model_enum` values, `name` is not {CreateProjectChatValidator.MinNameLength} to {CreateProjectChatValidator.MaxNameLength} UTF-16 code units, or the request id is not a UUID (or the field and the `Idempotency-Key` header disagree)",
        StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "Invalid body(model, name)", "model", "name", "request_id");

    public static readonly ApiError InvalidPath = new(
        "`user_id` or `project_id` is not a positive 32-bit integer",
        StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "Invalid params(user_id, project_id)", "user_id", "project_id");

    public static readonly ApiError UnsupportedMediaType = new(
        "REST only: the Content-Type is not `application/json`",
        StatusCodes.Status415UnsupportedMediaType, null, "Content-Type must be application/json");

    public static readonly ApiError PermissionDenied = new(
        "`user_id` is not the session's user",
        StatusCodes.Status403Forbidden, StatusCode.PermissionDenied, "Forbidden");

    public static readonly ApiError ProjectNotFound = new(
        "the project does not exist or belongs to someone else (one answer for both)",
        StatusCodes.Status404NotFound, StatusCode.NotFound, "Project not found");

    public static readonly ApiError RequestIdReused = new(
        "the request id (`request_id` or `Idempotency-Key`) was already used by this user for a different request; nothing is written",
        StatusCodes.Status422UnprocessableEntity, StatusCode.FailedPrecondition, "This request id was already used for a different request");

    public static readonly ApiError PayloadTooLarge = new(
        $"the body is over `Kestrel__Limits__MaxRequestBodySize` ({RequestLimitsServiceCollectionExtensions.DefaultMaxRequestBodySize / 1024} KiB) and is refused unread; native gRPC answers with gRPC's own message limit and text",
        StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "Request body too large");

    public static readonly ApiError TooManyRequests = new(
        "the signed-in user is over the rate limit, or a caller without a session over its address's budget; REST sends `Retry-After`, gRPC `grpc-retry-pushback-ms`",
        StatusCodes.Status429TooManyRequests, StatusCode.ResourceExhausted, "Too Many Requests");

    public static readonly ApiError Unavailable = new(
        "nothing was written: the database is unreachable, has no primary or is read-only (REST sends `Retry-After`, gRPC `grpc-retry-pushback-ms`), does not answer within `Database__CreateTimeoutSeconds` (or the call's own deadline), rolled the create back, or lacks this version's migrations (run `migrate`); or the queue of creates is full (`Retry-After` / pushback too). Safe to retry",
        StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, "Service Unavailable");

    public static readonly ApiError MayHaveCompleted = new(
        "the connection to the database was lost while the create was being committed, and the database could not say whether it was: the chat may be stored. Retry only with the same request id, which returns the chat if it is",
        StatusCodes.Status504GatewayTimeout, StatusCode.DeadlineExceeded, "The chat may have been created; retry with the same request id to find out");

    public static readonly ApiError Internal = new(
        "anything unexpected; no detail is given",
        StatusCodes.Status500InternalServerError, StatusCode.Internal, "Internal Server Error");

    /// <summary>Every row, in the order the README lists them.</summary>
    public static IReadOnlyList<ApiError> All { get; } =
    [
        Unauthenticated, InvalidBody, InvalidPath, UnsupportedMediaType, PermissionDenied, ProjectNotFound,
        RequestIdReused, PayloadTooLarge, TooManyRequests, Unavailable, MayHaveCompleted, Internal,
    ];
}
