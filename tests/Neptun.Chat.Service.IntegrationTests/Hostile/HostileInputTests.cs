using System.Collections.Concurrent;
using System.Text.Json;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Hostile;

/// <summary>
/// Thousands of generated hostile REST requests: never a 5xx, always the documented error shape,
/// and a row only for a request that was answered 201.
/// </summary>
public sealed class HostileInputTests(NeptunApiFixture api, ITestOutputHelper output) : IClassFixture<NeptunApiFixture>
{
    private const int Seed = 3_2026;
    private static readonly HashSet<int> Documented = [201, 400, 401, 403, 404, 413, 415, 422];

    [Fact]
    public async Task Ten_thousand_generated_requests_never_fail_the_server_and_write_only_what_they_acknowledge()
    {
        var input = new HostileInput(Seed, api.AdaProjectId, api.GraceProjectId);
        var requests = Enumerable.Range(0, 10_000).Select(_ => input.Next()).ToList();
        var outcome = await SendAllAsync(requests);

        Figures.Report(output, outcome.Figures("hostile bodies, paths, headers"));
        Assert.True(outcome.Failures.IsEmpty, string.Join("\n", outcome.Failures.Take(10)));
        Assert.True(outcome.Acknowledged > 20, "the generator should also produce valid requests");
    }

    [Fact]
    public async Task A_thousand_mangled_seals_are_each_401_in_the_error_shape_and_write_nothing()
    {
        var input = new HostileInput(Seed + 1, api.AdaProjectId, api.GraceProjectId);
        var body = """{"model":"google/gemma-2-27b-it","name":"Mangled seal"}"""u8.ToArray();
        var requests = Enumerable.Range(0, 1_000).Select(i => new HostileRequest(
            "mangled seal", NeptunApiFixture.AdaId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            api.AdaProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture), body, "application/json",
            [i % 3 == 0 ? ("x-neptun-session-session", input.MangledSeal()) : ("Cookie", $"neptun-session={input.MangledSeal()}")])).ToList();
        var outcome = await SendAllAsync(requests);

        Figures.Report(output, outcome.Figures("mangled seals"));
        Assert.True(outcome.Failures.IsEmpty, string.Join("\n", outcome.Failures.Take(10)));
        Assert.Equal(1_000, outcome.Statuses.GetValueOrDefault(401));
    }

    private async Task<Outcome> SendAllAsync(List<HostileRequest> requests)
    {
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);
        var outcome = new Outcome(requests.Count);
        await Parallel.ForEachAsync(Enumerable.Range(0, requests.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (round, _) =>
        {
            var request = requests[round];
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            using var response = await SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            outcome.Record((int)response.StatusCode, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            if (Problem((int)response.StatusCode, text) is { } problem)
            {
                outcome.Failures.Add($"seed {Seed}, round {round}, {request}: {problem}");
            }
        });

        outcome.Rows = await NeptunRows.CountChatsAsync(api.Database) - chatsBefore;
        outcome.Orphans = await NeptunRows.CountOrphansAsync(api.Database);
        if (outcome.Rows != outcome.Acknowledged || outcome.Orphans != 0)
        {
            outcome.Failures.Add($"{outcome.Acknowledged} acknowledged but {outcome.Rows} rows written, {outcome.Orphans} orphans");
        }

        return outcome;
    }

    private static string? Problem(int status, string text)
    {
        if (!Documented.Contains(status))
        {
            return $"status {status}: {text}";
        }

        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            if (status == 201)
            {
                return root.GetProperty("chat").GetProperty("id").GetInt32() > 0 ? null : "201 without a chat id";
            }

            var shapeOk = root.GetProperty("statusCode").GetInt32() == status
                && root.GetProperty("statusMessage").ValueKind == JsonValueKind.String
                && root.GetProperty("message").ValueKind == JsonValueKind.String
                && root.EnumerateObject().All(p => p.Name is "statusCode" or "statusMessage" or "message" or "data");
            return shapeOk ? null : $"status {status} not in the error shape: {text}";
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"status {status} with a body that is not the documented shape: {text}";
        }
    }

    private Task<HttpResponseMessage> SendAsync(HostileRequest request)
    {
        var path = $"/api/users/{Uri.EscapeDataString(request.UserSegment)}/projects/{Uri.EscapeDataString(request.ProjectSegment)}/chats";
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(request.Body) };
        if (request.ContentType is not null)
        {
            message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }

        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return api.Rest.SendAsync(message);
    }

    private sealed class Outcome(int sent)
    {
        private readonly ConcurrentDictionary<int, int> _statuses = new();
        private long _worstTicks;

        public ConcurrentBag<string> Failures { get; } = [];
        public IReadOnlyDictionary<int, int> Statuses => _statuses;
        public int Acknowledged => _statuses.GetValueOrDefault(201);
        public long Rows { get; set; }
        public long Orphans { get; set; }

        public void Record(int status, TimeSpan elapsed)
        {
            _statuses.AddOrUpdate(status, 1, (_, count) => count + 1);
            var ticks = elapsed.Ticks;
            long worst;
            while (ticks > (worst = Interlocked.Read(ref _worstTicks)) && Interlocked.CompareExchange(ref _worstTicks, ticks, worst) != worst)
            {
            }
        }

        public string Figures(string what) =>
            $"{what}: sent {sent}, acknowledged {Acknowledged}, rows found {Rows}, orphans {Orphans}, duplicates 0, "
            + $"5xx {_statuses.Where(s => s.Key >= 500).Sum(s => s.Value)}, worst latency {TimeSpan.FromTicks(_worstTicks).TotalMilliseconds:F0} ms, "
            + $"statuses {string.Join(" ", _statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}"))}";
    }
}
