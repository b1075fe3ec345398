using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.Limits;

public static class RequestLimitsServiceCollectionExtensions
{
    /// <summary>A request a chat needs is a few hundred bytes; anything far larger is refused unread.</summary>
    public const long DefaultMaxRequestBodySize = 64 * 1024;

    /// <summary>
    /// Kestrel's limits from <c>Kestrel:Limits</c> (body, header size and count) and the per-user
    /// rate limit. The body limit is one setting, <c>Kestrel:Limits:MaxRequestBodySize</c>, enforced
    /// once per request: by Kestrel for REST and every other route (the REST contract answers its
    /// refusal with the web app's 413), and by gRPC, per message, for native calls, which
    /// <c>GrpcCallMiddleware</c> lets past Kestrel's count.
    /// </summary>
    public static IServiceCollection AddNeptunRequestLimits(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            options.Limits.MaxRequestBodySize = DefaultMaxRequestBodySize;
            configuration.GetSection("Kestrel:Limits").Bind(options.Limits);
        });

        // Kestrel's socket transport. SocketTransport:UnsafePreferInlineScheduling=true (with the
        // runtime's DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1) runs a request on the I/O thread
        // that read it: less CPU per create, but not the default (docs/architecture.md says why).
        services.AddOptions<SocketTransportOptions>().BindConfiguration("SocketTransport");

        // gRPC's own limit reads a message's length prefix first and answers RESOURCE_EXHAUSTED.
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<KestrelServerOptions>>((grpc, kestrel) =>
            grpc.MaxReceiveMessageSize = (int?)Math.Min(kestrel.Value.Limits.MaxRequestBodySize ?? int.MaxValue, int.MaxValue));

        services.AddNeptunForwardedHeaders();
        services.AddNeptunUserRateLimiting();
        return services;
    }
}
