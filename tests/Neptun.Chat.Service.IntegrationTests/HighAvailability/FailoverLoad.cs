using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.HighAvailability;

/// <summary>
/// Steady creates without request ids from many callers (each waits out a refusal's retry
/// pushback, as gRPC's retry policy does) against a service, while a fault runs; then what each
/// caller was told, held against the database that survived, and the figures of the run.
/// </summary>
public sealed class FailoverLoad
{
    public const int Callers = 16;

    /// <summary>The service's request timeout in these tests, short so that a run is short.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The bound on any answer: the request timeout, plus 2 s.</summary>
    public static readonly TimeSpan WorstAnswer = RequestTimeout + TimeSpan.FromSeconds(2);

    /// <summary>The bound on the time from the promotion to a create answered 201.</summary>
    public static readonly TimeSpan BackWithin = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Steady = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(5);


    private readonly ConcurrentQueue<LoadCall> _calls = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly UnkeyedLoad _load;
    private Task? _running;

    /// <param name="survivor">Where the audit reads the chats: the database that outlives the fault.</param>
    public FailoverLoad(ServiceProcess service, TestDatabase survivor, int projectId) => _load = new UnkeyedLoad(service.CreateChatClient(), survivor, projectId);

    public static IReadOnlyDictionary<string, string> ServiceSettings { get; } = new Dictionary<string, string>
    {
        ["Database__CreateTimeoutSeconds"] = RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Starts the callers and returns after a steady stretch (the "before" of the figures).</summary>
    public async Task StartAsync()
    {
        _running = _load.RunSteadyAsync(_calls, Callers, TimeSpan.FromMilliseconds(5), _stop.Token);
        await Task.Delay(Steady);
    }

    /// <summary>Lets the callers run the "after" stretch past <paramref name="since"/>, stops them, and audits.</summary>
    public async Task<FailoverOutcome> FinishAsync(long since)
    {
        var left = After + TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(since);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }

        await _stop.CancelAsync();
        await _running!;
        _stop.Dispose();
        var calls = _calls.ToList();
        return new FailoverOutcome(calls, await _load.AuditAsync(calls));
    }

    /// <summary>Creates answered 201 per second in [<paramref name="from"/>, <paramref name="from"/> + <paramref name="length"/>).</summary>
    internal static double CreatesPerSecond(IEnumerable<LoadCall> calls, long from, TimeSpan length)
    {
        var to = from + (long)(length.TotalSeconds * Stopwatch.Frequency);
        return calls.Count(c => c.Status == StatusCode.OK && c.EndedAt >= from && c.EndedAt < to) / length.TotalSeconds;
    }

    /// <summary>The stretch before the fault and after the recovery that the figures count.</summary>
    internal static TimeSpan Stretch => After;
}

/// <summary>What the callers of a <see cref="FailoverLoad"/> were told, and the audit of the surviving database.</summary>
public sealed record FailoverOutcome(IReadOnlyList<LoadCall> Calls, UnkeyedAudit Audit)
{
    /// <summary>How long after <paramref name="since"/> the first create sent after <paramref name="fault"/> was answered 201 (from <paramref name="since"/> on).</summary>
    public TimeSpan? FirstCreatedAfter(long fault, long since) =>
        Calls.Where(c => c.Status == StatusCode.OK && c.StartedAt >= fault && c.EndedAt >= since).Select(c => (long?)c.EndedAt).Min() is { } at
            ? Stopwatch.GetElapsedTime(since, at)
            : null;

    public string Statuses => string.Join(" ", Calls.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"));

    public TimeSpan Slowest => Calls.Max(c => c.Elapsed);

    /// <summary>
    /// Prints the run's figures: answers by status, the first 201 after <paramref name="back"/>,
    /// creates/s in the steady 2 s before <paramref name="fault"/> and in the 5 s after <paramref name="back"/>.
    /// </summary>
    public void Report(ITestOutputHelper output, string run, long fault, long back)
    {
        var first = FirstCreatedAfter(fault, back);
        var steady = TimeSpan.FromSeconds(1.5);
        Figures.Report(output, $"{run}: {Audit}; answers {Statuses}, slowest {Slowest.TotalMilliseconds:F0} ms, "
            + $"first 201 {(first is { } f ? $"{f.TotalMilliseconds:F0} ms" : "never")} after it, "
            + $"creates/s {FailoverLoad.CreatesPerSecond(Calls, fault - (long)(steady.TotalSeconds * Stopwatch.Frequency), steady):F0} before, "
            + $"{FailoverLoad.CreatesPerSecond(Calls, back, FailoverLoad.Stretch):F0} in the 5 s after");
    }

    /// <summary>The promises across a failover: every answer true, none a 500, none slower than the timeout + 2 s, creates again within 2 s of <paramref name="back"/>.</summary>
    public void AssertKept(long fault, long back)
    {
        Audit.AssertTruthful();
        Assert.All(Calls, c => Assert.True(c.Elapsed <= FailoverLoad.WorstAnswer, $"{c.Name} was answered {c.Status} after {c.Elapsed.TotalMilliseconds:F0} ms"));
        Assert.True(FirstCreatedAfter(fault, back) is { } first && first <= FailoverLoad.BackWithin,
            $"no create sent after the fault was answered 201 within {FailoverLoad.BackWithin.TotalSeconds} s (first: {(FirstCreatedAfter(fault, back) is { } at ? $"{at.TotalMilliseconds:F0} ms" : "never")})");
    }
}
