using System.Diagnostics;

namespace Neptun.Chat.Service.Chats;

/// <summary>The moment, on the monotonic clock, by which a create must be answered.</summary>
public readonly record struct Deadline(long Timestamp)
{
    /// <summary>
    /// The smaller of the server's request timeout and the call's own deadline (gRPC's
    /// <c>grpc-timeout</c>; <see cref="DateTime.MaxValue"/> when the call set none), from now.
    /// </summary>
    public static Deadline ForCall(TimeSpan requestTimeout, DateTime callDeadlineUtc)
    {
        var now = Stopwatch.GetTimestamp();
        var budget = requestTimeout;
        if (callDeadlineUtc != DateTime.MaxValue && callDeadlineUtc - DateTime.UtcNow is var callBudget && callBudget < budget)
        {
            budget = callBudget;
        }

        return new Deadline(now + (long)(Math.Max(0, budget.TotalSeconds) * Stopwatch.Frequency));
    }

    /// <summary>The time left; zero once it has passed.</summary>
    public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Timestamp) is { Ticks: > 0 } left ? left : TimeSpan.Zero;

    public bool HasPassed => Stopwatch.GetTimestamp() >= Timestamp;

    public static Deadline Latest(Deadline first, Deadline second) => first.Timestamp >= second.Timestamp ? first : second;
}
