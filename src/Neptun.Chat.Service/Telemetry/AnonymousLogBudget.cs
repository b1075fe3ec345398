using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Bounds the log lines that callers without a valid session can cause (their request lines and
/// session refusals) to <see cref="RequestLogOptions.AnonymousLinesPerSecond"/>: a flood of them
/// must cost no more than a refusal, and must not bury signed-in users' lines. What is left out is
/// counted, and the count is written before the next line that is let through.
/// </summary>
public sealed class AnonymousLogBudget(IOptions<RequestLogOptions> options) : IDisposable
{
    private readonly TokenBucketRateLimiter _lines = new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = options.Value.AnonymousLinesPerSecond,
        TokensPerPeriod = options.Value.AnonymousLinesPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
    });

    private long _leftOut;

    /// <summary>Whether one more line may be written now.</summary>
    public bool TryTake(ILogger logger)
    {
        using var lease = _lines.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            Interlocked.Increment(ref _leftOut);
            return false;
        }

        if (Interlocked.Exchange(ref _leftOut, 0) is > 0 and var leftOut)
        {
            Log.AnonymousLinesLeftOut(logger, leftOut);
        }

        return true;
    }

    public void Dispose() => _lines.Dispose();
}
