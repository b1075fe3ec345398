using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>
/// Reads the session from the HTTP request, which carries the gRPC metadata of native calls and the
/// headers of REST calls alike. The rate limiter, the interceptor and the REST error writer all ask,
/// so the verdict is kept for the request: a seal is unsealed once.
/// </summary>
public static class HttpContextSessionExtensions
{
    private static readonly object SessionReadKey = new();

    public static SessionReadResult ReadSession(this SessionReader reader, HttpContext context)
    {
        if (context.Items.TryGetValue(SessionReadKey, out var earlier) && earlier is SessionReadResult known)
        {
            return known;
        }

        var headers = context.Request.Headers;
        string? sessionHeader = headers[SessionReaderOptions.HeaderName];
        var cookies = headers.Cookie;
        // HTTP/2 clients may split cookies over several headers; they read as one, joined by "; ".
        var result = reader.Read(sessionHeader, cookies.Count == 0 ? null : string.Join("; ", cookies.ToArray()));
        context.Items[SessionReadKey] = result;
        return result;
    }
}
