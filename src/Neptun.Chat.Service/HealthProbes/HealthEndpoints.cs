using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.HealthProbes;

/// <summary>
/// Readiness (the database answers and is migrated) and liveness (the process answers), over gRPC
/// health and over HTTP for orchestrators' probes.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>The gRPC health service name for liveness probes: the process answers, whatever the database does.</summary>
    public const string LivenessService = "liveness";

    public const string HttpPathPrefix = "/healthz";

    private const string ReadyTag = "ready";
    private const string LiveTag = "live";

    public static IServiceCollection AddNeptunHealth(this IServiceCollection services)
    {
        services.AddGrpcHealthChecks(options =>
            {
                options.Services.Map("", check => check.Tags.Contains(ReadyTag));
                options.Services.Map(ChatService.Descriptor.FullName, check => check.Tags.Contains(ReadyTag));
                options.Services.Map(LivenessService, check => check.Tags.Contains(LiveTag));
            })
            // Answering at all is the liveness signal; an empty check set would report UNKNOWN.
            .AddCheck("process", () => HealthCheckResult.Healthy(), tags: [LiveTag])
            // The check bounds its own probe; a timeout here would cost every check a timer.
            .AddCheck<DatabaseReadinessCheck>("database", tags: [ReadyTag]);
        services.AddSingleton<DatabaseReadinessCheck>();
        return services;
    }

    /// <summary>gRPC health; liveness asks nothing of the database, readiness does, like the gRPC health service.</summary>
    public static WebApplication MapNeptunHealth(this WebApplication app)
    {
        app.MapGrpcHealthChecksService();
        // HTTP probes on the operations port only; gRPC health stays on the gRPC port, where gRPC callers look for it.
        app.MapHealthChecks($"{HttpPathPrefix}/live", new HealthCheckOptions { Predicate = _ => false }).OnOperationsPort();
        app.MapHealthChecks($"{HttpPathPrefix}/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).OnOperationsPort();
        return app;
    }
}
