using System.Diagnostics;
using Neptun.Chat.Service.Hosting;
using Neptun.Chat.Service.Session;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Writes one structured line per request, after the REST contract has settled the status: the
/// method, the route (never the query or a header), the HTTP status, the gRPC status of a native
/// call, the session's user id once the session was read, and the duration.
/// </summary>
public sealed class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (TelemetryExtensions.IsOperationalPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            Log.RequestCompleted(
                logger,
                context.Request.Method,
                (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "",
                context.Response.StatusCode,
                GrpcResponseStatus.Read(context),
                context.GetSessionUserId(),
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
