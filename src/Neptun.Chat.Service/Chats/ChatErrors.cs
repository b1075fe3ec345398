using Google.Rpc;
using Neptun.Chat.Service.Errors;

namespace Neptun.Chat.Service.Chats;

/// <summary>The rows of <see cref="ApiErrors"/> the chat service throws.</summary>
public static class ChatErrors
{
    public static ApiException InvalidPath(IEnumerable<BadRequest.Types.FieldViolation> violations) =>
        new(ApiErrors.InvalidPath, [.. violations]);

    public static ApiException InvalidBody(IEnumerable<BadRequest.Types.FieldViolation> violations) =>
        new(ApiErrors.InvalidBody, [.. violations]);

    public static ApiException PermissionDenied() => new(ApiErrors.PermissionDenied);

    public static ApiException ProjectNotFound() => new(ApiErrors.ProjectNotFound);

    /// <summary>A request id that an earlier, different request of the same user holds; nothing was written.</summary>
    public static ApiException RequestIdReused() => new(ApiErrors.RequestIdReused);

    public static ApiException Unavailable() => new(ApiErrors.Unavailable);

    /// <summary>
    /// How long a caller refused for a reason that passes (a full queue, the database away) is asked
    /// to wait before it tries again: about the time a standby's promotion takes to be seen.
    /// </summary>
    private static readonly TimeSpan PassingRefusalRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>The queue of creates is full: nothing was written; REST's Retry-After and gRPC's pushback say when to try again.</summary>
    public static ApiException Overloaded() => new(ApiErrors.Unavailable, retryAfter: PassingRefusalRetryAfter);

    /// <summary>
    /// The database cannot take the create now (unreachable, shutting down, no primary, read-only):
    /// nothing was written; REST's Retry-After and gRPC's pushback say when to try again.
    /// </summary>
    public static ApiException DatabaseUnavailable() => new(ApiErrors.Unavailable, retryAfter: PassingRefusalRetryAfter);

    /// <summary>A commit whose outcome is unknown: the chat may be stored.</summary>
    public static ApiException MayHaveCompleted() => new(ApiErrors.MayHaveCompleted);

    public static ApiException Internal() => new(ApiErrors.Internal);
}
