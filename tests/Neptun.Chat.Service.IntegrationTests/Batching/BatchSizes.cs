using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.Chats;

namespace Neptun.Chat.Service.IntegrationTests.Batching;

/// <summary>Every batch size one service instance records on its metric, as a scraper would see it.</summary>
public sealed class BatchSizes : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<int> _sizes = new();

    public BatchSizes(IServiceProvider services)
    {
        var meter = services.GetRequiredService<ChatCreateMetrics>().Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == meter && instrument.Name == "neptun.chat.create.batch.size")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, size, _, _) => _sizes.Enqueue(size));
        _listener.Start();
    }

    public IReadOnlyCollection<int> Recorded => _sizes;

    public void Dispose() => _listener.Dispose();
}
