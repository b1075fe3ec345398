namespace Neptun.Chat.Service.Telemetry;

/// <summary>How many request log lines are written; bound from the <c>RequestLog</c> section.</summary>
public sealed class RequestLogOptions
{
    public const string SectionName = "RequestLog";

    /// <summary>
    /// The share of successful requests (REST 2xx, gRPC OK) that get a line, from 0 to 1; every
    /// other request always gets one. 1 logs every request. One in a hundred by default: a line
    /// costs more service CPU than a fifth of a create's own (docs/performance.md), and the
    /// metrics count every request anyway.
    /// </summary>
    public double SuccessSampleRate { get; set; } = 0.01;

    /// <summary>
    /// The most lines a second about requests without a valid session (refusals: 401, 404, the
    /// anonymous rate limit's 429), for all such callers together; the rest are counted, not written.
    /// </summary>
    public int AnonymousLinesPerSecond { get; set; } = 10;

    public static bool IsValidRate(double rate) => rate is >= 0 and <= 1;
}
