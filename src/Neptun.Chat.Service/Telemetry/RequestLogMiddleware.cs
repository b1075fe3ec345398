using System.Diagnostics;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Session;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Writes one structured line per request, after the REST contract has settled the status: the
/// method, the route (never the query or a header), the HTTP status, the gRPC status of a native
/// call, the session's user id when it has a valid session, and the duration. Every failed request
/// gets its line; successful ones at <see cref="RequestLogOptions.SuccessSampleRate"/>.
/// </summary>
public sealed class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger, IOptions<RequestLogOptions> options)
{
    private readonly SuccessLogSampler _successSampler = new(options.Value.SuccessSampleRate);

    public async Task InvokeAsync(HttpContext context)
    {
        if (TelemetryExtensions.IsOperationalPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var threw = true;
        try
        {
            await next(context);
            threw = false;
        }
        finally
        {
            var statusCode = context.Response.StatusCode;
            var grpcStatus = GrpcResponseStatus.Read(context);
            if (threw || !IsSuccess(statusCode, grpcStatus) || _successSampler.ShouldLog(Activity.Current))
            {
                Log.RequestCompleted(
                    logger,
                    context.Request.Method,
                    (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "",
                    statusCode,
                    grpcStatus,
                    context.GetSessionUser()?.Id,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    // A native gRPC call answers HTTP 200 whatever its outcome: its trailers tell.
    private static bool IsSuccess(int statusCode, string? grpcStatus) =>
        statusCode is >= 200 and < 300 && grpcStatus is null or "0";
}
