using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Neptun.Chat.Service.Tests.Infrastructure;
using OpenTelemetry.Trace;

namespace Neptun.Chat.Service.Tests.Telemetry;

/// <summary>The service's own OpenTelemetry pipeline, read back through an in-memory exporter.</summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private TestDatabase _database = null!;
    private ChatServiceFactory _factory = null!;
    private int _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _factory = new ChatServiceFactory(_database.ConnectionString)
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
        using var rest = _factory.CreateClient();
        // The first call also reads the model catalog; warm it so the traced call is a plain create.
        using (await PostAsync(rest, "Warm up"))
        {
        }

        await WaitForServerSpansAsync(1);
        lock (_spans)
        {
            _spans.Clear();
        }

        using var response = await PostAsync(rest, "Traced chat");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await WaitForServerSpansAsync(1);

        Activity[] spans;
        lock (_spans)
        {
            spans = [.. _spans];
        }

        var request = Assert.Single(spans, span => span.Kind == ActivityKind.Server);
        Assert.Equal("POST", request.GetTagItem("http.request.method"));
        Assert.Equal(201, request.GetTagItem("http.response.status_code"));
        Assert.Equal("grpc", request.GetTagItem("rpc.system"));
        Assert.Equal("neptun.chat.v1.ChatService", request.GetTagItem("rpc.service"));
        Assert.Equal("CreateProjectChat", request.GetTagItem("rpc.method"));
        Assert.All(spans, span => Assert.Equal(request.TraceId, span.TraceId));

        var database = Assert.Single(spans, span => span.Source.Name == "Npgsql" && QueryText(span).Contains("INSERT INTO public.chat_conversation", StringComparison.Ordinal));
        Assert.Equal(ActivityKind.Client, database.Kind);
        Assert.True(IsUnder(database, request, spans), "the database span is not under the request span");
    }

    private Task<HttpResponseMessage> PostAsync(HttpClient rest, string name)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{NeptunApiFixture.AdaId}/projects/{_projectId}/chats")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Cookie", Sessions.CookieFor(NeptunApiFixture.AdaId));
        return rest.SendAsync(request);
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
    private async Task WaitForServerSpansAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (_spans)
            {
                if (_spans.Count(span => span.Kind == ActivityKind.Server) >= count)
                {
                    return;
                }
            }

            await Task.Delay(20);
        }

        Assert.Fail($"no {count} server span(s) within 10 s");
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }
}
