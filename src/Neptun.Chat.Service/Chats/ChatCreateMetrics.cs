using System.Diagnostics.Metrics;

namespace Neptun.Chat.Service.Chats;

/// <summary>How a create that reached the queue ended, as the outcome metric counts it.</summary>
public enum CreateResult
{
    /// <summary>Stored: the chat, its link and its request id record committed.</summary>
    Written,

    /// <summary>An earlier request with the same id had stored it.</summary>
    Replayed,

    /// <summary>The project is not the user's; nothing written.</summary>
    NotFound,

    /// <summary>Failed with nothing written: the statement failed or rolled back, or its time ran out before it was sent.</summary>
    NotWritten,

    /// <summary>Its deadline passed, or its caller left, while it was queued: never sent.</summary>
    Expired,

    /// <summary>The queue was full (or closing): refused at once, never queued.</summary>
    Refused,

    /// <summary>
    /// It may be stored: its COMMIT's answer was lost and the database could not say, or its caller
    /// stopped waiting while its statement ran.
    /// </summary>
    Unknown,
}

/// <summary>What the create queue and group commit do under a load.</summary>
public sealed class ChatCreateMetrics
{
    private static readonly string[] ResultNames = ["written", "replayed", "not_found", "not_written", "expired", "refused", "unknown"];

    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _queueWait;

    // By CreateResult. Read at each collection, so that every result is exported from the start,
    // at 0 until it happens: a series that first appears at 1 has no earlier sample, and
    // Prometheus' rate() and increase() would miss a process's first "unknown".
    private readonly long[] _results = new long[ResultNames.Length];

    public ChatCreateMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(ServiceIdentity.MeterName);
        _batchSize = Meter.CreateHistogram<int>(
            "neptun.chat.create.batch.size",
            unit: "{create}",
            description: "Creates written by one statement and one commit.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _queueWait = Meter.CreateHistogram<double>(
            "neptun.chat.create.queue.wait",
            unit: "s",
            description: "Time a create waited in the queue before a writer took it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        Meter.CreateObservableCounter(
            "neptun.chat.create.results",
            () => ResultNames.Select((name, result) => new Measurement<long>(Volatile.Read(ref _results[result]), new KeyValuePair<string, object?>("result", name))),
            unit: "{create}",
            description: "Creates that reached the queue, by how they ended (result: written, replayed, not_found, not_written, expired, refused, unknown).");
    }

    /// <summary>The meter, so that a listener can tell this service's measurements from another instance's in one process.</summary>
    public Meter Meter { get; }

    public void ObserveQueueDepth(Func<int> depth) =>
        Meter.CreateObservableGauge("neptun.chat.create.queue.depth", depth, unit: "{create}", description: "Creates waiting for a writer.");

    public void BatchWritten(int size) => _batchSize.Record(size);

    public void LeftQueue(TimeSpan waited) => _queueWait.Record(waited.TotalSeconds);

    public void Finished(CreateResult result) => Interlocked.Increment(ref _results[(int)result]);
}
