using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.GrpcCalls;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Writes one structured line per request, after the REST contract has settled the status: the
/// method, the route (never the query or a header), the HTTP status, the gRPC status of a native
/// call, the session's user id when it has a valid session, the client's address and the duration.
/// Every failed request of a signed-in user gets its line, those of callers without a session as
/// many as <see cref="AnonymousLogBudget"/> allows, and successful ones at
/// <see cref="RequestLogOptions.SuccessSampleRate"/>. A native call's gRPC status also goes on the
/// request's duration metric (<see cref="GrpcStatusMetricTag"/>).
/// </summary>
public sealed class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger, IOptions<RequestLogOptions> options, AnonymousLogBudget anonymousBudget)
{
    private const string NoRoute = "(no route)";

    private readonly SuccessLogSampler _successSampler = new(options.Value.SuccessSampleRate);

    public async Task InvokeAsync(HttpContext context)
    {
        if (OperationsPort.IsOperationalPath(context.Request.Path))
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
            GrpcStatusMetricTag.Add(context, grpcStatus);
            var user = context.GetSessionUser();
            var logged = threw || !IsSuccess(statusCode, grpcStatus)
                ? user is not null || anonymousBudget.TryTake(logger)
                : _successSampler.ShouldLog();
            if (logged)
            {
                Log.RequestCompleted(
                    logger,
                    context.Request.Method,
                    RouteOf(context),
                    statusCode,
                    grpcStatus,
                    user?.Id,
                    context.Connection.RemoteIpAddress?.ToString(),
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    /// <summary>The route a request matched, as written in the code; never the path, which the caller wrote.</summary>
    public static string RouteOf(HttpContext context) => (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? NoRoute;

    // A native gRPC call answers HTTP 200 whatever its outcome: its trailers tell.
    private static bool IsSuccess(int statusCode, string? grpcStatus) =>
        statusCode is >= 200 and < 300 && grpcStatus is null or "0";
}

/// <summary>
/// Decides whether a successful request gets its log line, by the service's own randomness: a
/// caller's traceparent, which it writes itself, must not decide what is logged.
/// </summary>
public sealed class SuccessLogSampler(double rate)
{
    public bool ShouldLog() => rate >= 1 || Random.Shared.NextDouble() < rate;
}

/// <summary>The grpc-status a native call ended with, for the request log, the request span and the request metric.</summary>
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

/// <summary>
/// A native gRPC call answers HTTP 200 whatever its outcome, so ASP.NET Core's
/// <c>http.server.request.duration</c> alone cannot tell its failures from its successes: this adds
/// the call's status as <c>rpc.grpc.status_code</c> (OpenTelemetry's name; Prometheus shows
/// <c>rpc_grpc_status_code</c>), which the availability objective and its alerts read
/// (deploy/prometheus). REST requests carry none: their HTTP status tells.
/// </summary>
public static class GrpcStatusMetricTag
{
    public const string Name = "rpc.grpc.status_code";

    public static void Add(HttpContext context, string? grpcStatus)
    {
        if (grpcStatus is not null && context.Features.Get<IHttpMetricsTagsFeature>() is { } metric)
        {
            metric.Tags.Add(new KeyValuePair<string, object?>(Name, grpcStatus));
        }
    }
}
