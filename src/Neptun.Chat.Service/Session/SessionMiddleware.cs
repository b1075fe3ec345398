using Neptun.Chat.Service.GrpcCalls;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>
/// Reads the session of every gRPC call, native or REST, once and before anything needs it: the
/// rate limiter counts by its user, the session interceptor refuses a call without one (401 /
/// UNAUTHENTICATED), and the REST contract decides from it what a refused path may reveal. Each
/// reads this one result from the request's <see cref="NeptunRequestFeature"/>.
/// </summary>
public sealed class SessionMiddleware(RequestDelegate next, SessionReader reader)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.IsGrpcCall())
        {
            NeptunRequestFeature.Of(context).Session = Read(context.Request.Headers);
        }

        return next(context);
    }

    // The request's headers carry the gRPC metadata of native calls and the headers of REST calls alike.
    private SessionReadResult Read(IHeaderDictionary headers)
    {
        string? sessionHeader = headers[SessionReaderOptions.HeaderName];
        var cookies = headers.Cookie;
        // HTTP/2 clients may split cookies over several headers; they read as one, joined by "; ".
        return reader.Read(sessionHeader, cookies.Count == 0 ? null : string.Join("; ", cookies.ToArray()));
    }
}
