using Grpc.Core;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>Hands the interceptor's verdict to the service method and to the REST error writer.</summary>
public static class SessionCallContextExtensions
{
    private static readonly object SessionUserKey = new();
    private static readonly object SessionCheckedKey = new();

    private static readonly object SessionUserIdKey = new();

    public static void SetSessionUser(this ServerCallContext context, SessionUser user)
    {
        context.UserState[SessionUserKey] = user;
        context.GetHttpContext().Items[SessionUserIdKey] = user.Id;
    }

    /// <summary>The id of the session's user once the interceptor accepted it, for the request log.</summary>
    public static int? GetSessionUserId(this HttpContext httpContext) =>
        httpContext.Items.TryGetValue(SessionUserIdKey, out var id) ? (int?)id : null;

    public static SessionUser GetSessionUser(this ServerCallContext context) =>
        context.UserState.TryGetValue(SessionUserKey, out var user)
            ? (SessionUser)user
            : throw new InvalidOperationException("The session interceptor did not run for this call.");

    /// <summary>Marks the HTTP request as having reached the interceptor, so a REST error after it is known to be the service's own.</summary>
    public static void MarkSessionChecked(this ServerCallContext context) => context.GetHttpContext().Items[SessionCheckedKey] = true;

    public static bool WasSessionChecked(this HttpContext httpContext) => httpContext.Items.ContainsKey(SessionCheckedKey);
}
