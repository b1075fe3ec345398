using System.Diagnostics;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// The real process's console in Production: a request's JSON line reaches standard output as the
/// request ends (the service gives stdout a buffer that holds a whole line, so a line must still be
/// flushed at once, not when the buffer fills), carries the caller's trace id, and leaves out
/// ASP.NET Core's request scope, which only repeated the route.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class ServiceConsoleLogTests : IAsyncLifetime
{
    private const string RequestLogCategory = "Neptun.Chat.Service.Telemetry.RequestLogMiddleware";
    private TestDatabase _database = null!;
    private ServiceProcess? _service;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_request_line_is_on_standard_output_when_the_request_ends_as_json_with_the_trace_id()
    {
        _service = await ServiceProcess.StartAsync(_database.ConnectionString, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Every success logged, not one in a hundred as by default: this one must be.
            ["RequestLog__SuccessSampleRate"] = "1",
        });
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        var projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();

        await _service.CreateChatClient().CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = "Logged" },
            new Metadata
            {
                { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) },
                { "traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01" },
            },
            DateTime.UtcNow.AddSeconds(30));

        var line = await WaitForLineAsync(traceId, TimeSpan.FromSeconds(5));
        Assert.True(line is not null, $"no request line with trace id {traceId} on standard output within 5 s:{Environment.NewLine}{_service.Output}");

        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(RequestLogCategory, root.GetProperty("Category").GetString());
        Assert.Equal("0", root.GetProperty("State").GetProperty("GrpcStatus").GetString());
        Assert.Equal(NeptunApiFixture.AdaId, root.GetProperty("State").GetProperty("UserId").GetInt32());
        var scopes = root.GetProperty("Scopes").EnumerateArray().ToList();
        Assert.Contains(scopes, scope => scope.TryGetProperty("TraceId", out var id) && id.GetString() == traceId
            && scope.TryGetProperty("SpanId", out _) && scope.TryGetProperty("ParentId", out _));
        Assert.DoesNotContain(scopes, scope => scope.TryGetProperty("RequestId", out _));
    }

    private async Task<string?> WaitForLineAsync(string traceId, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            var line = _service!.Output.Split(Environment.NewLine)
                .FirstOrDefault(l => l.Contains(RequestLogCategory, StringComparison.Ordinal) && l.Contains(traceId, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            await Task.Delay(20);
        }

        return null;
    }
}
