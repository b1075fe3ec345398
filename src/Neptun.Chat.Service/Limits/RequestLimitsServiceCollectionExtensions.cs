using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.Limits;

public static class RequestLimitsServiceCollectionExtensions
{
    /// <summary>A request a chat needs is a few hundred bytes; anything far larger is refused unread.</summary>
    public const long DefaultMaxRequestBodySize = 64 * 1024;

    /// <summary>
    /// Kestrel's limits from <c>Kestrel:Limits</c> (body, header size and count), the same body
    /// limit for native gRPC messages, and the per-user rate limit.
    /// </summary>
    public static IServiceCollection AddNeptunRequestLimits(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            options.Limits.MaxRequestBodySize = DefaultMaxRequestBodySize;
            configuration.GetSection("Kestrel:Limits").Bind(options.Limits);
        });

        // Native gRPC reads its messages past Kestrel's body limit, with a limit of its own.
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<KestrelServerOptions>>((grpc, kestrel) =>
            grpc.MaxReceiveMessageSize = (int?)Math.Min(kestrel.Value.Limits.MaxRequestBodySize ?? int.MaxValue, int.MaxValue));

        services.AddNeptunUserRateLimiting();
        return services;
    }
}
