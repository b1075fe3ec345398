namespace Neptun.Chat.Service.Limits;

/// <summary>How many creates each signed-in user may make; bound from the <c>RateLimiting</c> section.</summary>
public sealed class UserRateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Requests a user may make in one window.</summary>
    public int PermitLimit { get; set; } = 60;

    /// <summary>The length of a window.</summary>
    public double WindowSeconds { get; set; } = 60;
}
