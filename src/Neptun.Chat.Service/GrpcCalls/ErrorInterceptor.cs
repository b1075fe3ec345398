using Grpc.Core;
using Grpc.Core.Interceptors;
using Neptun.Chat.Service.Errors;

namespace Neptun.Chat.Service.GrpcCalls;

/// <summary>
/// The outermost interceptor. Turns a failure nobody planned for into INTERNAL (REST 500) with no
/// detail: gRPC's own answer would be UNKNOWN, and an exception's text may describe internals the
/// caller must not see. It keeps the refusal in the request's feature, since transcoding writes an
/// error itself and the REST contract, which replaces that body, sees no exception.
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
        catch (ApiException refusal)
        {
            NeptunRequestFeature.Of(context.GetHttpContext()).Refusal = refusal;
            throw;
        }
        catch (Exception exception) when (exception is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            Log.UnexpectedFailure(logger, context.Method, exception);
            var refusal = new ApiException(ApiErrors.Internal);
            NeptunRequestFeature.Of(context.GetHttpContext()).Refusal = refusal;
            throw refusal;
        }
    }
}
