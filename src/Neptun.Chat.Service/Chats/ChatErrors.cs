using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// The errors of the API, as gRPC statuses. Messages are the web app's; the REST surface turns
/// them into its documented body. None of them says more than the caller may know.
/// </summary>
public static class ChatErrors
{
    public const string InvalidBodyMessage = "Invalid body(model, name)";
    public const string InvalidPathMessage = "Invalid params(user_id, project_id)";
    public const string UnauthorizedMessage = "Unauthorized";
    public const string ForbiddenMessage = "Forbidden";
    public const string ProjectNotFoundMessage = "Project not found";
    public const string RequestIdReusedMessage = "This request id was already used for a different request";
    public const string TooManyRequestsMessage = "Too Many Requests";
    public const string PayloadTooLargeMessage = "Request body too large";
    public const string UnavailableMessage = "Service Unavailable";
    public const string InternalMessage = "Internal Server Error";

    public static RpcException Unauthenticated() => new(new Grpc.Core.Status(StatusCode.Unauthenticated, UnauthorizedMessage));

    public static RpcException InvalidPath(IEnumerable<BadRequest.Types.FieldViolation> violations) =>
        InvalidArgument(InvalidPathMessage, violations);

    public static RpcException InvalidBody(IEnumerable<BadRequest.Types.FieldViolation> violations) =>
        InvalidArgument(InvalidBodyMessage, violations);

    public static RpcException PermissionDenied() => new(new Grpc.Core.Status(StatusCode.PermissionDenied, ForbiddenMessage));

    public static RpcException ProjectNotFound() => new(new Grpc.Core.Status(StatusCode.NotFound, ProjectNotFoundMessage));

    /// <summary>A request id that an earlier, different request of the same user holds; nothing was written.</summary>
    public static RpcException RequestIdReused() => new(new Grpc.Core.Status(StatusCode.FailedPrecondition, RequestIdReusedMessage));

    public static RpcException Unavailable() => new(new Grpc.Core.Status(StatusCode.Unavailable, UnavailableMessage));

    public static RpcException Internal() => new(new Grpc.Core.Status(StatusCode.Internal, InternalMessage));

    private static RpcException InvalidArgument(string message, IEnumerable<BadRequest.Types.FieldViolation> violations)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations);
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }
}
