using Grpc.Health.V1;
using Neptun.Chat.Service.HealthProbes;
using Neptun.Chat.Service.Telemetry;

namespace Neptun.Chat.Service;

/// <summary>
/// Probes and the metrics scrape on a port of their own (Kestrel endpoint <c>Operations</c>), which
/// no public route needs and no ingress or load balancer has to expose: the metrics show every
/// route's traffic, and a probe answers without a session. Those endpoints answer only there, and
/// only they do.
/// </summary>
public static class OperationsPort
{
    private static readonly PathString GrpcHealthPath = $"/{Health.Descriptor.FullName}";

    /// <summary>The Kestrel endpoint whose port is the operations port.</summary>
    public const string UrlKey = "Kestrel:Endpoints:Operations:Url";

    /// <summary>The port of <see cref="UrlKey"/>; null when no operations endpoint is configured.</summary>
    public static int? Read(IConfiguration configuration) =>
        configuration[UrlKey] is { Length: > 0 } url ? BindingAddress.Parse(url).Port : null;

    /// <summary>Marks an endpoint as operational: served on the operations port only.</summary>
    public static TBuilder OnOperationsPort<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint => endpoint.Metadata.Add(Marker.Instance));
        return builder;
    }

    /// <summary>
    /// Whether a request is a probe (over HTTP or gRPC health) or a scrape, by its path: they come
    /// every few seconds and say nothing about callers, so they get no request log line and no span.
    /// </summary>
    public static bool IsOperationalPath(PathString path) =>
        path.StartsWithSegments(HealthEndpoints.HttpPathPrefix) || path.StartsWithSegments(GrpcHealthPath) || path.StartsWithSegments(TelemetryExtensions.MetricsPath);

    /// <summary>Whether the request was routed to an operational endpoint (which answers on the operations port only).</summary>
    public static bool IsOperational(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<Marker>() is not null;

    /// <summary>
    /// 404 for an operational endpoint asked on a public port, and for anything else asked on the
    /// operations port. The port is the connection's own, not the Host header, which a caller writes.
    /// Without an operations endpoint, everything answers everywhere, as on a single port.
    /// </summary>
    public static IApplicationBuilder UseOperationsPort(this IApplicationBuilder app)
    {
        if (Read(app.ApplicationServices.GetRequiredService<IConfiguration>()) is not { } port)
        {
            return app;
        }

        return app.Use((context, next) =>
        {
            if (IsOperational(context) == (context.Connection.LocalPort == port))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }

    private sealed class Marker
    {
        public static readonly Marker Instance = new();
    }
}
