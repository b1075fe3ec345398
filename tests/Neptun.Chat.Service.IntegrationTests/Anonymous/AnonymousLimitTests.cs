using System.Globalization;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.TestHost;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Telemetry;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Anonymous;

/// <summary>
/// Requests without a valid session have a small budget per client address (429 /
/// RESOURCE_EXHAUSTED past it), their log lines a budget of their own, and neither touches a
/// signed-in user or another address.
/// </summary>
public sealed class AnonymousLimitTests : IAsyncLifetime
{
    private const int Burst = 5;
    private const int LinesPerSecond = 3;
    private readonly NeptunApiFixture _api = new()
    {
        Settings = new Dictionary<string, string?>
        {
            ["RateLimiting:AnonymousPermitsPerSecond"] = "1",
            ["RateLimiting:AnonymousBurst"] = Burst.ToString(CultureInfo.InvariantCulture),
            ["RequestLog:AnonymousLinesPerSecond"] = LinesPerSecond.ToString(CultureInfo.InvariantCulture),
        },
    };

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Past_its_burst_an_address_without_a_session_is_refused_on_every_surface_and_nobody_else_is()
    {
        using var attacker = ClientFrom("203.0.113.7");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < Burst * 3; i++)
        {
            using var response = await attacker.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _api.AdaProjectId, cookie: null));
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.Unauthorized, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.True(statuses.Count(s => s == HttpStatusCode.Unauthorized) <= Burst + 2, string.Join(", ", statuses));

        // The REST refusal is the web app's 429 with its pushback; an unknown path's is a bare 429.
        using (var refused = await attacker.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _api.AdaProjectId, cookie: null)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
            Assert.Equal(429, JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("statusCode").GetInt32());
        }

        using (var unknown = await attacker.GetAsync(new Uri("/wp-login.php", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, unknown.StatusCode);
            Assert.NotNull(unknown.Headers.RetryAfter?.Delta);
        }

        var health = new Health.HealthClient(GrpcChannelFrom("203.0.113.7"));
        var exhausted = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest()).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, exhausted.StatusCode);

        // The same address signed in, another address, and the platform's probes go on.
        using (var signedIn = await attacker.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _api.AdaProjectId, _api.AdaCookie)))
        {
            Assert.Equal(HttpStatusCode.Created, signedIn.StatusCode);
        }

        using var neighbour = ClientFrom("198.51.100.9");
        using (var other = await neighbour.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _api.AdaProjectId, cookie: null)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        }

        using var operations = _api.Factory.CreateOperationsClient();
        for (var i = 0; i < Burst * 2; i++)
        {
            using var ready = await operations.GetAsync(new Uri("/healthz/ready", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
    }

    [Fact]
    public async Task A_flood_of_invalid_cookies_writes_a_bounded_number_of_lines_and_no_raw_path()
    {
        var before = RequestLog.Lines(_api.Factory).Count;
        var rejectionsBefore = SessionRejections();
        var sent = 0;
        for (var address = 1; address <= 20; address++)
        {
            // Distinct addresses, so that the rate limit lets each through and only the log budget bounds the lines.
            using var client = ClientFrom($"192.0.2.{address}");
            for (var i = 0; i < Burst; i++, sent++)
            {
                using var response = await client.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, _api.AdaProjectId, "neptun-session=Fe26.2**forged"));
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }

        // Once the budget has refilled, the next line is let through, after the count of what was left out.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using (var injected = await ClientFrom("192.0.2.99").GetAsync(new Uri("/nothing%0AForged%20line%20answered%20200", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, injected.StatusCode);
        }

        var lines = RequestLog.Lines(_api.Factory).Skip(before).ToList();
        var rejections = SessionRejections() - rejectionsBefore;

        // Each second of the run may spend the budget once more; the run takes a few seconds at most.
        Assert.True(lines.Count + rejections < sent / 2, $"{lines.Count} request lines and {rejections} rejection lines for {sent} refusals");
        Assert.Contains(_api.Factory.Logs.Lines, line => line.Contains("were left out", StringComparison.Ordinal));
        Assert.DoesNotContain(_api.Factory.Logs.Lines, line => line.Contains("Forged", StringComparison.Ordinal) || line.Contains("/nothing", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("StatusCode=404", StringComparison.Ordinal) && line.Contains("Route=(no route)", StringComparison.Ordinal));
        Assert.All(lines.Where(line => line.Contains("StatusCode=401", StringComparison.Ordinal)),
            line => Assert.Contains("ClientAddress=192.0.2.", line, StringComparison.Ordinal));
    }

    private int SessionRejections() => _api.Factory.Logs.Lines.Count(line => line.Contains("Session rejected", StringComparison.Ordinal));

    // TestServer has no sockets: each request is given the address a connection from that client would have.
    private HttpClient ClientFrom(string address) =>
        new(_api.Factory.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = _api.Factory.Server.BaseAddress };

    private Grpc.Net.Client.GrpcChannel GrpcChannelFrom(string address) =>
        Grpc.Net.Client.GrpcChannel.ForAddress(_api.Factory.Server.BaseAddress, new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = _api.Factory.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address)),
        });
}
