using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Neptun.Chat.Service.GrpcCalls;

namespace Neptun.Chat.Service.Limits;

/// <summary>
/// Requests without a valid session (probes and reflection on the public ports, refused calls,
/// unknown paths) share a small budget, so that nobody without a session can slow down signed-in
/// users: a token bucket per client address, and a ceiling on how many are in flight at once from
/// all addresses together. Signed-in callers have the per-user window instead; the operations
/// port is not limited, since only the platform reaches it.
/// </summary>
public static class AnonymousRateLimiting
{
    /// <summary>Where the trusted proxies' networks are configured (CIDR), whose X-Forwarded-For is believed.</summary>
    public const string TrustedProxiesKey = "ForwardedHeaders:TrustedNetworks";

    public static void AddAnonymousLimit(this RateLimiterOptions options, UserRateLimitOptions limits)
    {
        var perAddress = PartitionedRateLimiter.Create<HttpContext, (bool Anonymous, IPAddress? Address)>(context => IsAnonymous(context)
            ? RateLimitPartition.GetTokenBucketLimiter((true, context.Connection.RemoteIpAddress), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.AnonymousBurst,
                TokensPerPeriod = limits.AnonymousPermitsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
            })
            : RateLimitPartition.GetNoLimiter<(bool, IPAddress?)>((false, null)));
        var inFlight = PartitionedRateLimiter.Create<HttpContext, bool>(context => IsAnonymous(context)
            ? RateLimitPartition.GetConcurrencyLimiter(true, _ => new ConcurrencyLimiterOptions { PermitLimit = limits.AnonymousConcurrency, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter(false));
        options.GlobalLimiter = PartitionedRateLimiter.CreateChained(perAddress, inFlight);
    }

    /// <summary>X-Forwarded-For and -Proto, believed only from loopback and the configured networks of trusted proxies.</summary>
    public static IServiceCollection AddNeptunForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var network in configuration.GetSection(TrustedProxiesKey).Get<string[]>() ?? [])
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }

    private static bool IsAnonymous(HttpContext context) =>
        context.GetSessionUser() is null && !OperationsPort.IsOperational(context);
}
