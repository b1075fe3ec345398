using Grpc.Core;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>The caller, as <see cref="SessionMiddleware"/> read it into the request's <see cref="NeptunRequestFeature"/>.</summary>
public static class SessionRequestExtensions
{
    /// <summary>The user of a valid session; null without one, or for a request that is no gRPC call.</summary>
    public static SessionUser? GetSessionUser(this HttpContext context) =>
        context.Features.Get<NeptunRequestFeature>()?.Session?.User;

    /// <summary>The caller of a call the session interceptor let through.</summary>
    public static SessionUser GetSessionUser(this ServerCallContext context) =>
        context.GetHttpContext().GetSessionUser()
        ?? throw new InvalidOperationException("The session interceptor did not run for this call.");
}
