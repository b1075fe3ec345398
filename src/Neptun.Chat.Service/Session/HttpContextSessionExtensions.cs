using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>Reads the session straight from an HTTP request, for the parts of the pipeline that run before the interceptor.</summary>
public static class HttpContextSessionExtensions
{
    public static SessionReadResult ReadSession(this SessionReader reader, HttpContext context)
    {
        var headers = context.Request.Headers;
        string? sessionHeader = headers[SessionReaderOptions.HeaderName];
        var cookies = headers.Cookie;
        return reader.Read(sessionHeader, cookies.Count == 0 ? null : string.Join("; ", cookies.ToArray()));
    }
}
