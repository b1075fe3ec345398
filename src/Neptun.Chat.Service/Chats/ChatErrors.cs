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

    /// <summary>How long a caller refused by a full queue is asked to wait before it tries again.</summary>
    private static readonly TimeSpan OverloadedRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>The queue of creates is full: nothing was written; REST's Retry-After and gRPC's pushback say when to try again.</summary>
    public static ApiException Overloaded() => new(ApiErrors.Unavailable, retryAfter: OverloadedRetryAfter);

    /// <summary>A commit whose outcome is unknown: the chat may be stored.</summary>
    public static ApiException MayHaveCompleted() => new(ApiErrors.MayHaveCompleted);

    public static ApiException Internal() => new(ApiErrors.Internal);
}
