using Grpc.Core;
using Grpc.Core.Interceptors;
using Neptun.Chat.Service.Errors;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>
/// Lets a call through only with a valid <c>neptun-session</c>, read (by <see cref="SessionMiddleware"/>)
/// exactly as the web app reads it, so that one login serves both. Runs for native gRPC and
/// transcoded REST calls alike.
/// </summary>
public sealed class SessionInterceptor(ILogger<SessionInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // No result at all means the session was never read: refused like a missing session.
        var session = context.GetHttpContext().Features.Get<NeptunRequestFeature>()?.Session;
        if (session?.User is null)
        {
            // The reason is safe to log; the cookie never is.
            Log.SessionRejected(logger, context.Method, session?.Rejection ?? SessionRejection.Missing);
            throw new ApiException(ApiErrors.Unauthenticated);
        }

        return continuation(request, context);
    }
}
