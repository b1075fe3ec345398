using Grpc.Core;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

/// <summary>Finds the session in gRPC metadata, which carries the HTTP headers of REST calls too.</summary>
public static class SessionHeaders
{
    public static string? SessionHeader(Metadata headers)
    {
        foreach (var entry in headers)
        {
            if (!entry.IsBinary && string.Equals(entry.Key, SessionReaderOptions.HeaderName, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Value;
            }
        }

        return null;
    }

    /// <summary>HTTP/2 clients may split cookies over several headers; they read as one, joined by "; ".</summary>
    public static string? CookieHeader(Metadata headers)
    {
        string? cookies = null;
        foreach (var entry in headers)
        {
            if (!entry.IsBinary && string.Equals(entry.Key, "cookie", StringComparison.OrdinalIgnoreCase))
            {
                cookies = cookies is null ? entry.Value : string.Concat(cookies, "; ", entry.Value);
            }
        }

        return cookies;
    }
}
