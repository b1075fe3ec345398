using Microsoft.AspNetCore.Http.Features;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>The grpc-status a native call ended with, for the request log and the request span.</summary>
public static class GrpcResponseStatus
{
    private const string HeaderName = "grpc-status";

    /// <summary>
    /// The status from the trailers, or from the headers of a trailers-only response (a call that
    /// failed before it wrote a message); null for anything that is not a native gRPC reply.
    /// </summary>
    public static string? Read(HttpContext context)
    {
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        if (trailers is not null && trailers.TryGetValue(HeaderName, out var status))
        {
            return status.ToString();
        }

        return context.Response.Headers.TryGetValue(HeaderName, out status) ? status.ToString() : null;
    }
}
