using Grpc.Core;
using Grpc.Core.Interceptors;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.Telemetry;
using Neptun.Session;

namespace Neptun.Chat.Service.GrpcCalls;

/// <summary>
/// The outermost interceptor, on every service. Turns a failure nobody planned for into INTERNAL
/// (REST 500) with no detail: gRPC's own answer would be UNKNOWN, and an exception's text may
/// describe internals the caller must not see. It keeps the refusal in the call's feature, since
/// transcoding writes an error itself and the REST contract, which replaces that body, sees no exception.
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
            context.GetHttpContext().KeepRefusal(refusal);
            throw;
        }
        catch (Exception exception) when (exception is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            Log.UnexpectedFailure(logger, context.Method, exception);
            var refusal = new ApiException(ApiErrors.Internal);
            context.GetHttpContext().KeepRefusal(refusal);
            throw refusal;
        }
    }
}

/// <summary>
/// The session gate: lets a call through only with a valid <c>neptun-session</c>, read (by
/// <see cref="GrpcCallMiddleware"/>) exactly as the web app reads it, so that one login serves
/// both. Runs for native gRPC and transcoded REST calls alike, on the services that need a caller.
/// </summary>
public sealed class SessionInterceptor(ILogger<SessionInterceptor> logger, AnonymousLogBudget anonymousBudget) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // No result at all means the session was never read: refused like a missing session.
        var session = context.GetHttpContext().Features.Get<GrpcCallFeature>()?.Session;
        if (session?.User is null)
        {
            // The reason is safe to log; the cookie never is.
            if (anonymousBudget.TryTake(logger))
            {
                Log.SessionRejected(logger, context.Method, session?.Rejection ?? SessionRejection.Missing);
            }

            throw new ApiException(ApiErrors.Unauthenticated);
        }

        return continuation(request, context);
    }
}
