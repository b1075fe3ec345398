namespace Neptun.Chat.Service.IntegrationTests.Telemetry;

/// <summary>
/// Tests that read a host's metrics scrape. Meters are process-wide in .NET: OpenTelemetry's
/// listener of one in-process host also sees the instruments of every other host of the same meter
/// name, and another test disposing its host beside it can end a metric stream the scrape needs. So
/// these run alone, after the tests that run side by side.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetricsCollection
{
    public const string Name = "Process-wide metrics";
}
