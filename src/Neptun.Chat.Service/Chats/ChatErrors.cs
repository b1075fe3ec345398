using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Neptun.Chat.Service.Chats;

/// <summary>The rows of <see cref="ApiErrors"/> the service and its interceptors throw, as gRPC statuses.</summary>
public static class ChatErrors
{
    public static RpcException Unauthenticated() => ToRpcException(ApiErrors.Unauthenticated);

    public static RpcException InvalidPath(IEnumerable<BadRequest.Types.FieldViolation> violations) =>
        ToRpcException(ApiErrors.InvalidPath, violations);

    public static RpcException InvalidBody(IEnumerable<BadRequest.Types.FieldViolation> violations) =>
        ToRpcException(ApiErrors.InvalidBody, violations);

    public static RpcException PermissionDenied() => ToRpcException(ApiErrors.PermissionDenied);

    public static RpcException ProjectNotFound() => ToRpcException(ApiErrors.ProjectNotFound);

    /// <summary>A request id that an earlier, different request of the same user holds; nothing was written.</summary>
    public static RpcException RequestIdReused() => ToRpcException(ApiErrors.RequestIdReused);

    public static RpcException Unavailable() => ToRpcException(ApiErrors.Unavailable);

    /// <summary>How long a caller refused by a full queue is asked to wait before it tries again.</summary>
    public static readonly TimeSpan OverloadedRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>gRPC's retry pushback trailer (gRFC A6): how long a client's retry policy waits.</summary>
    public const string RetryPushbackHeader = "grpc-retry-pushback-ms";

    /// <summary>The queue of creates is full: nothing was written, and gRPC's retry pushback says when to try again.</summary>
    public static RpcException Overloaded() => new(
        new Grpc.Core.Status(ApiErrors.Unavailable.GrpcStatus!.Value, ApiErrors.Unavailable.Message),
        new Metadata { { RetryPushbackHeader, ((int)OverloadedRetryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) } });

    /// <summary>A commit whose outcome is unknown: the chat may be stored.</summary>
    public static RpcException MayHaveCompleted() => ToRpcException(ApiErrors.MayHaveCompleted);

    public static RpcException Internal() => ToRpcException(ApiErrors.Internal);

    private static RpcException ToRpcException(ApiError error) =>
        new(new Grpc.Core.Status(error.GrpcStatus!.Value, error.Message));

    // Field violations travel as google.rpc.BadRequest in the status details.
    private static RpcException ToRpcException(ApiError error, IEnumerable<BadRequest.Types.FieldViolation> violations)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations);
        var status = new Google.Rpc.Status
        {
            Code = (int)error.GrpcStatus!.Value,
            Message = error.Message,
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }
}
