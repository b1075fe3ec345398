using System.Diagnostics;
using Neptun.Chat.Service.Telemetry;

namespace Neptun.Chat.Service.UnitTests.Telemetry;

/// <summary>Which successful requests get a log line: decided by the trace id's random bits.</summary>
public sealed class SuccessLogSamplerTests
{
    private const string LowTraceId = "ffffffffffffffff0000000000000001";
    private const string HighTraceId = "0000000000000000fffffffffffffffe";

    [Theory]
    [InlineData(1, LowTraceId, true)]
    [InlineData(1, HighTraceId, true)]
    [InlineData(0, LowTraceId, false)]
    [InlineData(0, HighTraceId, false)]
    [InlineData(0.5, LowTraceId, true)]
    [InlineData(0.5, HighTraceId, false)]
    public void A_trace_is_logged_when_its_random_part_falls_under_the_rate(double rate, string traceId, bool logged)
    {
        using var activity = new Activity("request")
            .SetParentId(ActivityTraceId.CreateFromString(traceId), ActivitySpanId.CreateRandom())
            .Start();

        Assert.Equal(logged, new SuccessLogSampler(rate).ShouldLog(activity));
    }
}
