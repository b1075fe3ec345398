using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Neptun.Chat.Service.Rest;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// The outermost interceptor. Turns a failure nobody planned for into INTERNAL (REST 500) with no
/// detail: gRPC's own answer would be UNKNOWN, and an exception's text may describe internals the
/// caller must not see. For a REST call it records which row of <see cref="ApiErrors"/> the call
/// failed with, so that the REST contract writes that row rather than reading transcoding's body.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException exception)
        {
            RecordForRest(context, ApiErrors.Find(exception.StatusCode, exception.Status.Detail), exception);
            throw;
        }
        catch (Exception exception) when (!context.CancellationToken.IsCancellationRequested)
        {
            Log.UnexpectedFailure(logger, context.Method, exception);
            RecordForRest(context, ApiErrors.Internal, null);
            throw ChatErrors.Internal();
        }
    }

    private static void RecordForRest(ServerCallContext context, ApiError? error, RpcException? exception)
    {
        var httpContext = context.GetHttpContext();
        if (error is null || !httpContext.IsRestCall())
        {
            return;
        }

        var feature = NeptunRequestFeature.Of(httpContext);
        feature.Error = error;
        feature.FieldViolations = exception?.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations ?? [];
    }
}
