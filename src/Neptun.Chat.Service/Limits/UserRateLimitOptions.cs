namespace Neptun.Chat.Service.Limits;

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

    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);
}
