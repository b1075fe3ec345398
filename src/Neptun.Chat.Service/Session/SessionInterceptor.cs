using Grpc.Core;
using Grpc.Core.Interceptors;
using Neptun.Chat.Service.Errors;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>
/// Lets a call through only with a valid <c>neptun-session</c>, read exactly as the web app reads
/// it, so that one login serves both. Runs for native gRPC and transcoded REST calls alike.
/// </summary>
public sealed class SessionInterceptor(SessionReader reader, ILogger<SessionInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var result = reader.ReadSession(context.GetHttpContext());
        if (result.User is not { } user)
        {
            // The reason is safe to log; the cookie never is.
            Log.SessionRejected(logger, context.Method, result.Rejection);
            throw new ApiException(ApiErrors.Unauthenticated);
        }

        context.SetSessionUser(user);
        return continuation(request, context);
    }
}
