using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.GrpcCalls;

namespace Neptun.Chat.Service.Limits;

/// <summary>
/// A fixed window of requests per signed-in user, with ASP.NET Core's rate limiter. Callers without
/// a valid session are not counted: they are refused with 401 before any database work, and
/// counting them under one key would let anyone use up the budget of everyone else.
/// </summary>
public static class UserRateLimiting
{
    public const string PolicyName = "per-user";

    public static IServiceCollection AddNeptunUserRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<UserRateLimitOptions>()
            .BindConfiguration(UserRateLimitOptions.SectionName)
            .Validate(options => options.PermitLimit > 0 && options.WindowSeconds > 0, "RateLimiting:PermitLimit and WindowSeconds must be positive.")
            .Validate(options => options.AnonymousPermitsPerSecond > 0 && options.AnonymousBurst > 0 && options.AnonymousConcurrency > 0,
                "RateLimiting:AnonymousPermitsPerSecond, AnonymousBurst and AnonymousConcurrency must be positive.")
            .ValidateOnStart();

        services.AddSingleton<SharedRateLimit>();
        services.AddHostedService(sp => sp.GetRequiredService<SharedRateLimit>());
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = ApiErrors.TooManyRequests.RestStatus;
            options.OnRejected = (context, cancellationToken) => RejectAsync(context.HttpContext, context.Lease, cancellationToken);
        });
        // One window or the other, chosen once: without Redis each process counts on its own, as before.
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<UserRateLimitOptions>, SharedRateLimit>((options, limits, shared) =>
        {
            options.AddAnonymousLimit(limits.Value);
            var perUser = PartitionFor(limits.Value, shared);
            options.AddPolicy<int>(PolicyName, context =>
                context.GetSessionUser() is { } user ? perUser(user.Id) : RateLimitPartition.GetNoLimiter(0));
        });
        return services;
    }

    /// <summary>
    /// A user's partition: the same window for every replica, in Redis, or one of this process's
    /// own. Its settings are read once here, not from the request's services on every call.
    /// </summary>
    private static Func<int, RateLimitPartition<int>> PartitionFor(UserRateLimitOptions limits, SharedRateLimit shared)
    {
        if (limits.UsesRedis)
        {
            Func<int, RateLimiter> createShared = shared.CreateLimiter;
            return userId => RateLimitPartition.Get(userId, createShared);
        }

        return userId => RateLimitPartition.GetFixedWindowLimiter(userId, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limits.PermitLimit,
            Window = TimeSpan.FromSeconds(limits.WindowSeconds),
            QueueLimit = 0,
        });
    }

    // REST gets 429 with Retry-After (the REST contract middleware, outside, writes the row);
    // native gRPC gets RESOURCE_EXHAUSTED as a trailers-only response, with gRPC's retry pushback;
    // a request that is no call at all (an unknown path, the API page) a bare 429 with Retry-After.
    private static ValueTask RejectAsync(HttpContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        // Whole seconds, as Retry-After is written; gRPC's pushback says the same in milliseconds.
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var window) ? window : TimeSpan.FromSeconds(1);
        var refusal = new ApiException(ApiErrors.TooManyRequests, retryAfter: ApiException.WholeSeconds(wait));
        if (context.IsRestCall())
        {
            context.KeepRefusal(refusal);
            return ValueTask.CompletedTask;
        }

        if (!context.IsGrpcCall())
        {
            context.Response.Headers.RetryAfter = ApiException.RetryAfterSeconds(wait);
            return ValueTask.CompletedTask;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)ApiErrors.TooManyRequests.GrpcStatus!.Value).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = ApiErrors.TooManyRequests.Message;
        context.Response.Headers[ApiException.RetryPushbackTrailer] = refusal.Trailers.GetValue(ApiException.RetryPushbackTrailer);
        return new ValueTask(context.Response.CompleteAsync());
    }
}

/// <summary>How many creates each signed-in user may make; bound from the <c>RateLimiting</c> section.</summary>
public sealed class UserRateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Requests a user may make in one window.</summary>
    public int PermitLimit { get; set; } = 60;

    /// <summary>The length of a window.</summary>
    public double WindowSeconds { get; set; } = 60;

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>host:6379,password=...</c>). When set, every
    /// replica counts in the same window, kept in Redis; when not, each process counts on its own.
    /// It may hold a password: never log it.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// The most a create waits for Redis's answer before it goes on without the shared limit. Short,
    /// since a create must not pay for a Redis that hangs; one that refuses fails at once.
    /// </summary>
    public int RedisTimeoutMilliseconds { get; set; } = 500;

    /// <summary>
    /// Requests a second that one client address may make without a valid session, after a burst
    /// of <see cref="AnonymousBurst"/>: far above what a balancer's health checks or a person with
    /// grpcurl send, far below a flood.
    /// </summary>
    public int AnonymousPermitsPerSecond { get; set; } = 20;

    /// <summary>The burst one client address may send without a valid session before the per-second rate applies.</summary>
    public int AnonymousBurst { get; set; } = 40;

    /// <summary>How many requests without a valid session may be in flight at once, from every address together.</summary>
    public int AnonymousConcurrency { get; set; } = 16;

    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);
}

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
