using System.Diagnostics;
using Neptun.Chat.Service.Telemetry;

namespace Neptun.Chat.Service.UnitTests.Telemetry;

/// <summary>Which successful requests get a log line: chosen by the service's own randomness, whatever trace a caller sends.</summary>
public sealed class SuccessLogSamplerTests
{
    [Theory]
    [InlineData(1, 1000, 1000)]
    [InlineData(0, 0, 0)]
    public void Rate_1_logs_every_success_and_rate_0_none(double rate, int atLeast, int atMost)
    {
        var sampler = new SuccessLogSampler(rate);

        var logged = Enumerable.Range(0, 1000).Count(_ => sampler.ShouldLog());

        Assert.InRange(logged, atLeast, atMost);
    }

    [Fact]
    public void A_caller_cannot_choose_its_fate_with_the_trace_id_it_sends()
    {
        // The same trace id on every request, as a caller may send in its traceparent: a sampler
        // that read the trace id would log all of them or none.
        using var activity = new Activity("request")
            .SetParentId(ActivityTraceId.CreateFromString("0000000000000000fffffffffffffffe"), ActivitySpanId.CreateRandom())
            .Start();
        var sampler = new SuccessLogSampler(0.5);

        var logged = Enumerable.Range(0, 1000).Count(_ => sampler.ShouldLog());

        // Binomial(1000, 0.5): 350 to 650 is more than nine standard deviations either side.
        Assert.InRange(logged, 350, 650);
    }
}
