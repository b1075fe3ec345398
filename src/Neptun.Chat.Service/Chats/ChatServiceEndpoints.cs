using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Chat.Service.Limits;

namespace Neptun.Chat.Service.Chats;

public static class ChatServiceEndpoints
{
    /// <summary>
    /// ChatService behind the session check (health and reflection need no session), and the
    /// queue and writers its creates go through.
    /// </summary>
    public static IServiceCollection AddNeptunChatService(this IServiceCollection services)
    {
        services.AddGrpc().AddServiceOptions<ChatApiService>(options => options.Interceptors.Add<SessionInterceptor>());
        // One instance for every call, rather than one built per call: it keeps no state of a call's.
        services.AddSingleton<ChatApiService>();
        services.AddSingleton<DatabaseFailures>();
        services.AddSingleton<ChatCreateMetrics>();
        services.AddSingleton<ChatCreateQueue>();
        services.AddHostedService<ChatCreateWriters>();
        return services;
    }

    /// <summary>ChatService's gRPC method and its REST route, both under the per-user rate limit.</summary>
    public static WebApplication MapNeptunChatService(this WebApplication app)
    {
        app.MapGrpcService<ChatApiService>().RequireRateLimiting(UserRateLimiting.PolicyName);
        return app;
    }
}
