using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.IntegrationTests.Api;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Telemetry;

/// <summary>The API fixture with no success logged (<c>RequestLog:SuccessSampleRate</c> 0).</summary>
public sealed class SuccessesUnloggedApiFixture : NeptunApiFixture
{
    public SuccessesUnloggedApiFixture()
    {
        Settings = new Dictionary<string, string?> { ["RequestLog:SuccessSampleRate"] = "0" };
    }
}

/// <summary>A sampled request log still writes a line for every failed request, REST and gRPC.</summary>
public sealed class RequestLogSamplingTests(SuccessesUnloggedApiFixture api) : IClassFixture<SuccessesUnloggedApiFixture>
{
    [Fact]
    public async Task At_rate_0_successes_write_no_line_and_errors_still_do()
    {
        var before = RequestLines().Count;
        var grpc = api.Factory.CreateChatClient();
        var cookie = new Metadata { { "cookie", api.AdaCookie } };

        using (var created = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body("Unlogged")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await grpc.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = "Unlogged too" },
            cookie);

        using (var notFound = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.GraceProjectId, Body("Not mine")))
        {
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }

        var forbidden = await Assert.ThrowsAsync<RpcException>(() => grpc.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.GraceId, ProjectId = api.GraceProjectId, Model = NeptunApiFixture.ValidModel, Name = "Not mine" },
            cookie).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, forbidden.StatusCode);

        // Each reply ends after its request's line would have been written; the errors came last.
        var lines = (await RequestLog.WaitForLinesAsync(api.Factory, before + 2)).Skip(before).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Single(lines, line => line.Contains("StatusCode=404", StringComparison.Ordinal));
        Assert.Single(lines, line => line.Contains($"GrpcStatus={(int)StatusCode.PermissionDenied}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-0.1")]
    [InlineData("1.5")]
    [InlineData("NaN")]
    public void Refuses_to_start_with_a_rate_outside_0_to_1(string rate)
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?> { ["RequestLog:SuccessSampleRate"] = rate });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.Server);

        Assert.Contains("RequestLog:SuccessSampleRate", error.Message, StringComparison.Ordinal);
    }

    private static string Body(string name) => JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name });

    private List<string> RequestLines() => RequestLog.Lines(api.Factory);
}
