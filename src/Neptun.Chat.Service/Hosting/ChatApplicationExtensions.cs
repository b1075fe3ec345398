using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Limits;
using Neptun.Chat.Service.Rest;

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

    /// <summary>ChatService (gRPC and its REST route), reflection, gRPC health, and HTTP probes.</summary>
    public static WebApplication MapNeptunEndpoints(this WebApplication app)
    {
        app.UseMiddleware<MetadataHeaderFilterMiddleware>();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseMiddleware<RestContractMiddleware>();

        // After the REST contract middleware, so that a REST 429 gets the web app's error body.
        app.UseRateLimiter();

        app.MapGrpcService<ChatApiService>().RequireRateLimiting(UserRateLimiting.PolicyName);
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();

        // Liveness asks nothing of the database; readiness does, like the gRPC health service.
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }
}
