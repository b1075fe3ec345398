using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;
using OpenTelemetry.Trace;
using StatusCode = Grpc.Core.StatusCode;

namespace Neptun.Chat.Service.IntegrationTests.Telemetry;

/// <summary>The service's own OpenTelemetry pipeline, read back through an in-memory exporter.</summary>
[Collection(TracingCollection.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private TestDatabase _database = null!;
    private ChatServiceFactory _factory = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // Spans are recorded when someone receives them: here the in-memory exporter, which the
        // service cannot see, so the sampler is named as an operator with a collector of their own would.
        _factory = new ChatServiceFactory(_database.ConnectionString, new Dictionary<string, string?> { ["OTEL_TRACES_SAMPLER"] = "always_on" })
        {
            TestServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)),
        };
        _factory.StartServer(); // migrates the database
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        _projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
    }

    [Fact]
    public async Task One_create_is_one_trace_with_the_request_span_and_the_database_span_under_it()
    {
        // Listeners see every host in the test process, so the call names its own trace, as a
        // caller that propagates W3C trace context would.
        var traceId = ActivityTraceId.CreateRandom();
        using var rest = _factory.CreateClient();
        using var request = TracedCreate(traceId, _projectId, "Traced chat");

        using var response = await rest.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var spans = await WaitForTraceAsync(traceId);

        var server = Assert.Single(spans, span => span.Kind == ActivityKind.Server);
        Assert.Equal("POST", server.GetTagItem("http.request.method"));
        Assert.Equal(201, server.GetTagItem("http.response.status_code"));
        Assert.Equal("grpc", server.GetTagItem("rpc.system"));
        Assert.Equal("neptun.chat.v1.ChatService", server.GetTagItem("rpc.service"));
        Assert.Equal("CreateProjectChat", server.GetTagItem("rpc.method"));

        var database = Assert.Single(spans, span => span.Source.Name == "Npgsql" && QueryText(span).Contains("INSERT INTO public.chat_conversation", StringComparison.Ordinal));
        Assert.Equal(ActivityKind.Client, database.Kind);
        Assert.True(IsUnder(database, server, spans), "the database span is not under the request span");
        Assert.All(spans.Where(span => span != server), span => Assert.True(IsUnder(span, server, spans), $"{span.DisplayName} is not under the request span"));
    }

    [Fact]
    public async Task A_refused_native_call_has_its_grpc_status_on_the_request_span()
    {
        // No session: the call fails before it writes a message, so its status travels in the
        // headers of a trailers-only response rather than in trailers.
        var traceId = ActivityTraceId.CreateRandom();
        var call = _factory.CreateChatClient().CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _projectId, Model = NeptunApiFixture.ValidModel, Name = "Refused" },
            new Metadata { { "traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01" } });
        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        var server = Assert.Single(await WaitForTraceAsync(traceId), span => span.Kind == ActivityKind.Server);
        Assert.Equal("CreateProjectChat", server.GetTagItem("rpc.method"));
        Assert.Equal((int)StatusCode.Unauthenticated, server.GetTagItem("rpc.grpc.status_code"));
    }

    /// <summary>A REST create in a trace of its own, sampled, as a caller propagating W3C trace context sends it.</summary>
    internal static HttpRequestMessage TracedCreate(ActivityTraceId traceId, int projectId, string name)
    {
        var request = ChatRequests.Create(NeptunApiFixture.AdaId, projectId, Sessions.CookieFor(NeptunApiFixture.AdaId), JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        return request;
    }

    private static string QueryText(Activity span) =>
        (span.GetTagItem("db.query.text") ?? span.GetTagItem("db.statement")) as string ?? "";

    private static bool IsUnder(Activity span, Activity ancestor, Activity[] spans)
    {
        for (var parentId = span.ParentSpanId; parentId != default;)
        {
            if (parentId == ancestor.SpanId)
            {
                return true;
            }

            parentId = spans.FirstOrDefault(s => s.SpanId == parentId)?.ParentSpanId ?? default;
        }

        return false;
    }

    // The server span ends a moment after TestServer hands the response over.
    private async Task<Activity[]> WaitForTraceAsync(ActivityTraceId traceId)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            lock (_spans)
            {
                var trace = _spans.Where(span => span.TraceId == traceId).ToArray();
                if (trace.Any(span => span.Kind == ActivityKind.Server))
                {
                    return trace;
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("the request span was not exported within 10 s");
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}
