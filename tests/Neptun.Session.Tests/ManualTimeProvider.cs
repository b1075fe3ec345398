namespace Neptun.Session.Tests;

/// <summary>A clock the test sets, so expiry and age can be checked to the millisecond.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
