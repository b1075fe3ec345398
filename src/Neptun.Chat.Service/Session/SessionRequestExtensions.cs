using Grpc.Core;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>
/// Reads the session from the HTTP request, which carries the gRPC metadata of native calls and the
/// headers of REST calls alike, and hands the interceptor's verdict on, through the request's
/// <see cref="NeptunRequestFeature"/>.
/// </summary>
public static class SessionRequestExtensions
{
    /// <summary>The rate limiter, the interceptor and the REST contract all ask; the first answer is kept.</summary>
    public static SessionReadResult ReadSession(this SessionReader reader, HttpContext context)
    {
        var feature = NeptunRequestFeature.Of(context);
        if (feature.Session is { } known)
        {
            return known;
        }

        var headers = context.Request.Headers;
        string? sessionHeader = headers[SessionReaderOptions.HeaderName];
        var cookies = headers.Cookie;
        // HTTP/2 clients may split cookies over several headers; they read as one, joined by "; ".
        var result = reader.Read(sessionHeader, cookies.Count == 0 ? null : string.Join("; ", cookies.ToArray()));
        feature.Session = result;
        return result;
    }

    public static void SetSessionUser(this ServerCallContext context, SessionUser user) =>
        NeptunRequestFeature.Of(context.GetHttpContext()).User = user;

    public static SessionUser GetSessionUser(this ServerCallContext context) =>
        context.GetHttpContext().Features.Get<NeptunRequestFeature>()?.User
        ?? throw new InvalidOperationException("The session interceptor did not run for this call.");

    /// <summary>The id of the session's user once the interceptor accepted it, for the request log.</summary>
    public static int? GetSessionUserId(this HttpContext context) => context.Features.Get<NeptunRequestFeature>()?.User?.Id;
}
