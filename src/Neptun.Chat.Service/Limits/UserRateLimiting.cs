using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Chat.Service.Session;

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
            .ValidateOnStart();

        services.AddSingleton<SharedRateLimit>();
        services.AddHostedService(sp => sp.GetRequiredService<SharedRateLimit>());
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = ApiErrors.TooManyRequests.RestStatus;
            options.OnRejected = (context, cancellationToken) => RejectAsync(context.HttpContext, context.Lease, cancellationToken);
        });
        // One window or the other, chosen once: without Redis each process counts on its own, as before.
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<UserRateLimitOptions>>((options, limits) =>
        {
            Func<HttpContext, int, RateLimitPartition<int>> perUser = limits.Value.UsesRedis ? SharedPartition : Partition;
            options.AddPolicy<int>(PolicyName, context =>
                context.GetSessionUser() is { } user ? perUser(context, user.Id) : RateLimitPartition.GetNoLimiter(0));
        });
        return services;
    }

    private static RateLimitPartition<int> Partition(HttpContext context, int userId)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<UserRateLimitOptions>>().Value;
        return RateLimitPartition.GetFixedWindowLimiter(userId, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.PermitLimit,
            Window = TimeSpan.FromSeconds(options.WindowSeconds),
            QueueLimit = 0,
        });
    }

    /// <summary>The same window for every replica, in Redis.</summary>
    private static RateLimitPartition<int> SharedPartition(HttpContext context, int userId) =>
        RateLimitPartition.Get(userId, context.RequestServices.GetRequiredService<SharedRateLimit>().CreateLimiter);

    // REST gets 429 with Retry-After (the REST contract middleware, outside, writes the row);
    // native gRPC gets RESOURCE_EXHAUSTED as a trailers-only response, with gRPC's retry pushback.
    private static ValueTask RejectAsync(HttpContext context, RateLimitLease lease, CancellationToken cancellationToken)
    {
        // Whole seconds, as Retry-After is written; gRPC's pushback says the same in milliseconds.
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var window) ? window : TimeSpan.FromSeconds(1);
        var refusal = new ApiException(ApiErrors.TooManyRequests, retryAfter: TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait.TotalSeconds))));
        if (context.IsRestCall())
        {
            NeptunRequestFeature.Of(context).Refusal = refusal;
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
