using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Turns a failure nobody planned for into INTERNAL (REST 500) with no detail: gRPC's own answer
/// would be UNKNOWN, and an exception's text may describe internals the caller must not see.
/// </summary>
public sealed class UnexpectedErrorInterceptor(ILogger<UnexpectedErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception exception) when (exception is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            Log.UnexpectedFailure(logger, context.Method, exception);
            throw ChatErrors.Internal();
        }
    }
}
