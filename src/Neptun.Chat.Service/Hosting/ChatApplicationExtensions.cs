using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Limits;

namespace Neptun.Chat.Service.Hosting;

public static class ChatApplicationExtensions
{
    /// <summary>Runs the migrations before serving when <c>Database:MigrateOnStartup</c> asks for it.</summary>
    public static WebApplication MigrateDatabaseIfAsked(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup)
        {
            app.Services.GetRequiredService<DatabaseMigrator>().Migrate();
        }

        return app;
    }

    /// <summary>ChatService (gRPC and its REST route), reflection, gRPC health; HTTP probes and the metrics scrape on the operations port.</summary>
    public static WebApplication MapNeptunEndpoints(this WebApplication app)
    {
        app.MapGrpcService<ChatApiService>().RequireRateLimiting(UserRateLimiting.PolicyName);
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();

        // Liveness asks nothing of the database; readiness does, like the gRPC health service.
        // Probes and metrics on the operations port only; gRPC health stays on the gRPC port, where gRPC callers look for it.
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false }).OnOperationsPort();
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).OnOperationsPort();
        app.MapPrometheusScrapingEndpoint(TelemetryExtensions.MetricsPath).OnOperationsPort();
        return app;
    }
}
