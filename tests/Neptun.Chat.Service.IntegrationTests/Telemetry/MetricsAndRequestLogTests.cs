using System.Net;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Telemetry;

/// <summary>The Prometheus scrape endpoint and the one structured log line per request.</summary>
[Collection(ProcessWideMetricsCollection.Name)]
public sealed class MetricsAndRequestLogTests(NeptunApiFixture api) : IClassFixture<NeptunApiFixture>
{
    [Fact]
    public async Task Metrics_show_requests_by_method_and_status_latency_and_the_database_pool()
    {
        using (var created = await PostAsync(api.AdaCookie, "Counted"))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var refused = await PostAsync(null, "Refused"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var text = await ScrapeUntilAsync("http_response_status_code=\"401\"");

        var buckets = text.Split('\n').Where(line => line.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal)).ToList();
        Assert.Contains(buckets, line => line.Contains("http_request_method=\"POST\"", StringComparison.Ordinal) && line.Contains("http_response_status_code=\"201\"", StringComparison.Ordinal));
        Assert.Contains(buckets, line => line.Contains("http_response_status_code=\"401\"", StringComparison.Ordinal));
        Assert.Matches("(?m)^db_client_connection_count\\{", text);

        // The create queue: how creates ended, how long they waited, how many wait now.
        Assert.Matches("(?m)^neptun_chat_create_results_total\\{[^}]*result=\"written\"", text);
        Assert.Matches("(?m)^neptun_chat_create_queue_wait_seconds_bucket\\{", text);
        Assert.Matches("(?m)^neptun_chat_create_queue_depth(\\{[^}]*\\})? 0", text);
        // Every result is there from 0, those that never happened too (a Prometheus rate sees the first one).
        Assert.Matches("(?m)^neptun_chat_create_results_total\\{[^}]*result=\"unknown\"[^}]*\\} 0", text);
    }

    [Fact]
    public async Task Of_the_framework_s_instruments_only_those_read_are_exported()
    {
        using (var created = await PostAsync(api.AdaCookie, "Counted once"))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var text = await ScrapeUntilAsync("aspnetcore_rate_limiting_requests_total");

        // The dashboard's and the alerts' (docs/operations.md names them).
        Assert.Matches("(?m)^db_client_connection_count\\{", text);
        Assert.Matches("(?m)^http_server_request_duration_seconds_count\\{", text);
        // Recorded on every request, read by nobody.
        foreach (var unread in (string[])["http_server_active_requests", "aspnetcore_routing_match_attempts", "kestrel_active_connections",
            "aspnetcore_rate_limiting_active_request_leases", "aspnetcore_rate_limiting_request_lease_duration", "db_client_operation_duration"])
        {
            Assert.DoesNotMatch($"(?m)^{unread}", text);
        }
    }

    [Fact]
    public async Task Native_grpc_calls_carry_their_grpc_status_on_the_request_metric()
    {
        // Both answer HTTP 200: only the label tells the refusal from the success.
        await CreateOverGrpcThenOneForbiddenAsync("Counted by status");
        using (var created = await PostAsync(api.AdaCookie, "Counted over REST"))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var denied = $"rpc_grpc_status_code=\"{(int)StatusCode.PermissionDenied}\"";
        var counts = (await ScrapeUntilAsync(denied)).Split('\n')
            .Where(line => line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)).ToList();
        var native = counts.Where(line => line.Contains("http_route=\"/neptun.chat.v1.ChatService/CreateProjectChat\"", StringComparison.Ordinal)).ToList();
        Assert.Contains(native, line => line.Contains("rpc_grpc_status_code=\"0\"", StringComparison.Ordinal));
        Assert.Contains(native, line => line.Contains(denied, StringComparison.Ordinal));
        Assert.All(native, line => Assert.Contains("http_response_status_code=\"200\"", line, StringComparison.Ordinal));
        var rest = counts.Where(line => line.Contains("http_route=\"/api/users/{user_id}/projects/{project_id}/chats\"", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rest);
        Assert.All(rest, line => Assert.DoesNotContain("rpc_grpc_status_code", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_request_is_one_log_line_with_method_status_user_and_duration()
    {
        var before = RequestLines().Count;
        using (var created = await PostAsync(api.AdaCookie, "Logged"))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // The default success sample rate, 1, logs successes of both kinds too.
        await CreateOverGrpcThenOneForbiddenAsync("Logged too");

        var lines = (await RequestLog.WaitForLinesAsync(api.Factory, before + 3)).Skip(before).ToList();
        Assert.Equal(3, lines.Count);
        var rest = Assert.Single(lines, line => line.Contains("StatusCode=201", StringComparison.Ordinal) && line.Contains("Route=/api/users/{user_id}/projects/{project_id}/chats", StringComparison.Ordinal));
        Assert.Contains("HttpMethod=POST", rest, StringComparison.Ordinal);
        Assert.Contains($"UserId={NeptunApiFixture.AdaId}", rest, StringComparison.Ordinal);
        Assert.Matches("DurationMs=[0-9]", rest);

        Assert.Single(lines, line => line.Contains("GrpcStatus=0", StringComparison.Ordinal));
        var native = Assert.Single(lines, line => line.Contains("Route=/neptun.chat.v1.ChatService/CreateProjectChat", StringComparison.Ordinal) && !line.Contains("GrpcStatus=0", StringComparison.Ordinal));
        Assert.Contains($"GrpcStatus={(int)StatusCode.PermissionDenied}", native, StringComparison.Ordinal);
        Assert.Contains($"UserId={NeptunApiFixture.AdaId}", native, StringComparison.Ordinal);
        Assert.All(lines, line => Assert.DoesNotContain("Fe26.2", line, StringComparison.Ordinal));
    }

    // A native create of Ada's, then one into Grace's project with Ada's session: PERMISSION_DENIED.
    private async Task CreateOverGrpcThenOneForbiddenAsync(string name)
    {
        var grpc = api.Factory.CreateChatClient();
        await grpc.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = name },
            new Metadata { { "cookie", api.AdaCookie } });
        var forbidden = await Assert.ThrowsAsync<RpcException>(() => grpc.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.GraceId, ProjectId = api.GraceProjectId, Model = NeptunApiFixture.ValidModel, Name = "Not mine" },
            new Metadata { { "cookie", api.AdaCookie } }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, forbidden.StatusCode);
    }

    private Task<HttpResponseMessage> PostAsync(string? cookie, string name) =>
        api.PostChatAsync(cookie, NeptunApiFixture.AdaId, api.AdaProjectId, JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));

    // Metrics are collected at scrape time, but the request's own measurement is taken as it ends.
    private async Task<string> ScrapeUntilAsync(string expected)
    {
        var text = "";
        using var operations = api.Factory.CreateOperationsClient();
        for (var attempt = 0; attempt < 50 && !text.Contains(expected, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 100);
            text = await operations.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        return text;
    }

    private List<string> RequestLines() => RequestLog.Lines(api.Factory);
}
