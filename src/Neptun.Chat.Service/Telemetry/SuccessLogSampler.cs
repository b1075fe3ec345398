using System.Buffers.Binary;
using System.Diagnostics;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Decides whether a successful request gets its log line. The decision is taken from the trace
/// id, not at random, so that it is the same for a trace wherever it is taken: a trace continued
/// from a caller is logged by every replica alike, and a sampled line can be followed to its trace.
/// </summary>
public sealed class SuccessLogSampler
{
    // W3C Trace Context: the rightmost 7 bytes of a trace id are random.
    private const int RandomBits = 56;
    private const ulong RandomMask = (1UL << RandomBits) - 1;

    private readonly double _rate;
    private readonly ulong _threshold;

    public SuccessLogSampler(double rate)
    {
        _rate = rate;
        _threshold = (ulong)(rate * (1UL << RandomBits));
    }

    public bool ShouldLog(Activity? activity)
    {
        if (_rate >= 1)
        {
            return true;
        }

        if (activity is null)
        {
            // No trace to follow (no listener made one): fall back on chance at the same rate.
            return Random.Shared.NextDouble() < _rate;
        }

        Span<byte> traceId = stackalloc byte[16];
        activity.TraceId.CopyTo(traceId);
        return (BinaryPrimitives.ReadUInt64BigEndian(traceId[8..]) & RandomMask) < _threshold;
    }
}
