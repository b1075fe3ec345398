using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Neptun.Chat.Service.Telemetry;

public static class TelemetryExtensions
{
    public const string MetricsPath = "/metrics";

    // OpenTelemetry's standard variables (also read as configuration keys).
    private const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private const string SamplerVariable = "OTEL_TRACES_SAMPLER";

    // The framework's and Npgsql's instruments that docs/operations.md, the alerts and the dashboard read.
    private static readonly FrozenSet<string> ReadFrameworkInstruments = FrozenSet.Create(
        StringComparer.Ordinal,
        "http.server.request.duration",
        "aspnetcore.rate_limiting.requests",
        "db.client.connection.count",
        "db.client.connection.max");

    /// <summary>
    /// The request log's options; OpenTelemetry traces (ASP.NET Core with gRPC's tags, Npgsql) and
    /// metrics (requests, latency, the connection pool) for Prometheus; OTLP export only when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    public static WebApplicationBuilder AddNeptunTelemetry(this WebApplicationBuilder builder)
    {
        LineBufferedConsole.Install();
        builder.Services.AddOptions<RequestLogOptions>()
            .BindConfiguration(RequestLogOptions.SectionName)
            .Validate(options => RequestLogOptions.IsValidRate(options.SuccessSampleRate), "RequestLog:SuccessSampleRate must be from 0 to 1.")
            .Validate(options => options.AnonymousLinesPerSecond >= 1, "RequestLog:AnonymousLinesPerSecond must be at least 1.")
            .ValidateOnStart();
        builder.Services.AddSingleton<AnonymousLogBudget>();
        var exportsToOtlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceIdentity.Name))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options =>
                {
                    options.Filter = context => !OperationsPort.IsOperationalPath(context.Request.Path);
                    options.EnrichWithHttpResponse = GrpcSpanTags.Enrich;
                })
                .AddNpgsql()
                .DropSpansUnlessReceived(exportsToOtlp))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(ServiceIdentity.MeterName)
                .AddView(instrument => IsRead(instrument) ? null : MetricStreamConfiguration.Drop)
                .AddPrometheusExporter());

        // Without an endpoint the exporter would try localhost:4317 and log failures forever.
        if (exportsToOtlp)
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// The service's own instruments, and of the framework's and Npgsql's those that
    /// docs/operations.md, the alerts and the dashboard read. The others (active requests, routing
    /// attempts, Kestrel's connections, the rate limiter's leases, Npgsql's command and connection
    /// timings) are not collected: each one enabled costs every request a lookup of its tags.
    /// </summary>
    private static bool IsRead(Instrument instrument) =>
        instrument.Meter.Name == ServiceIdentity.MeterName || ReadFrameworkInstruments.Contains(instrument.Name);

    /// <summary>
    /// Spans nobody receives are not recorded: without an OTLP endpoint (or a sampler of the
    /// operator's own, OTEL_TRACES_SAMPLER) every span is dropped, yet still created, so that log
    /// lines keep their TraceId and a caller's trace context still flows through. Recording them
    /// cost every request its span's tags and the database statement's.
    /// </summary>
    private static TracerProviderBuilder DropSpansUnlessReceived(this TracerProviderBuilder tracing, bool exportsToOtlp) =>
        exportsToOtlp ? tracing : tracing.ConfigureServices(services => services.ConfigureOpenTelemetryTracerProvider((provider, builder) =>
        {
            // Read once the configuration is complete, which a host under test adds to last.
            if (string.IsNullOrWhiteSpace(provider.GetRequiredService<IConfiguration>()[SamplerVariable]))
            {
                builder.SetSampler(new AlwaysOffSampler());
            }
        }));

    /// <summary>The Prometheus scrape endpoint, on the operations port.</summary>
    public static WebApplication MapNeptunMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath).OnOperationsPort();
        return app;
    }
}
