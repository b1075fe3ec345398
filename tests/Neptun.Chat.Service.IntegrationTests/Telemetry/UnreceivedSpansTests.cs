using System.Diagnostics;
using System.Net;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using OpenTelemetry.Trace;

namespace Neptun.Chat.Service.IntegrationTests.Telemetry;

/// <summary>
/// Activity listeners see every host in the test process, and a span is recorded when any of them
/// asks: these classes never run side by side, so that only the service under test decides.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TracingCollection
{
    public const string Name = "Tracing";
}

/// <summary>Spans that no exporter of the operator's receives are not recorded (their cost is per request).</summary>
[Collection(TracingCollection.Name)]
public sealed class UnreceivedSpansTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Without_an_otlp_endpoint_or_a_sampler_of_its_own_the_service_records_no_span()
    {
        var spans = new List<Activity>();
        await using var factory = new ChatServiceFactory(_database.ConnectionString)
        {
            // Seen by the service as a processor, not as an OTLP endpoint: it must not record for it.
            TestServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)),
        };
        factory.StartServer(); // migrates the database
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        var projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
        var traceId = ActivityTraceId.CreateRandom();
        using var rest = factory.CreateClient();
        using var request = TracingTests.TracedCreate(traceId, projectId, "Untraced chat");

        using var response = await rest.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        // TracingTests sees its request span within milliseconds of the answer.
        await Task.Delay(TimeSpan.FromSeconds(1));
        lock (spans)
        {
            Assert.DoesNotContain(spans, span => span.TraceId == traceId);
        }
    }
}
