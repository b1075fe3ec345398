using System.Diagnostics.Metrics;

namespace Neptun.Chat.Service.Chats;

/// <summary>How creates are grouped into statements: what group commit actually does under a load.</summary>
public sealed class ChatCreateMetrics
{
    public const string MeterName = "Neptun.Chat.Service";

    private readonly Histogram<int> _batchSize;

    public ChatCreateMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _batchSize = Meter.CreateHistogram<int>(
            "neptun.chat.create.batch.size",
            unit: "{create}",
            description: "Creates written by one statement and one commit.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    }

    /// <summary>The meter, so that a listener can tell this service's measurements from another instance's in one process.</summary>
    public Meter Meter { get; }

    public void BatchWritten(int size) => _batchSize.Record(size);
}
