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

    /// <summary>ChatService (gRPC and its REST route), reflection, gRPC health, HTTP probes and the metrics scrape.</summary>
    public static WebApplication MapNeptunEndpoints(this WebApplication app)
    {
        app.MapGrpcService<ChatApiService>().RequireRateLimiting(UserRateLimiting.PolicyName);
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();

        // Liveness asks nothing of the database; readiness does, like the gRPC health service.
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapPrometheusScrapingEndpoint(TelemetryExtensions.MetricsPath);
        return app;
    }
}
