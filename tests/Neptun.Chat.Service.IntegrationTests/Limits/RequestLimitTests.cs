using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Limits;

/// <summary>Bodies over the configured limit are refused unread; oversized headers are refused by Kestrel.</summary>
public sealed class RequestLimitTests : IAsyncLifetime
{
    private const int BodyLimit = 4096;
    private KestrelService _service = null!;

    public async Task InitializeAsync() =>
        _service = await KestrelService.StartAsync(new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxRequestBodySize"] = BodyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kestrel:Limits:MaxRequestHeadersTotalSize"] = "16384",
            ["Kestrel:Limits:MaxRequestHeaderCount"] = "50",
        });

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task A_declared_body_over_the_limit_is_413_in_the_error_shape_and_writes_nothing()
    {
        using var response = await PostAsync(Body(BodyLimit + 1), chunked: false);
        await AssertRefused(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_413_and_writes_nothing()
    {
        using var response = await PostAsync(Body(BodyLimit * 4), chunked: true);
        await AssertRefused(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_body_at_the_limit_is_read_and_judged_on_its_content()
    {
        using var response = await PostAsync(Body(BodyLimit), chunked: false);
        await AssertRefused(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_native_grpc_message_over_the_limit_is_resource_exhausted()
    {
        using var channel = GrpcChannel.ForAddress(_service.GrpcAddress);
        var client = new ChatService.ChatServiceClient(channel);
        var request = new CreateProjectChatRequest
        {
            UserId = NeptunApiFixture.AdaId, ProjectId = _service.ProjectId, Model = NeptunApiFixture.ValidModel, Name = new string('x', BodyLimit * 2),
        };
        var failure = await Assert.ThrowsAsync<RpcException>(() =>
            client.CreateProjectChatAsync(request, new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, failure.StatusCode);
        Assert.Equal(0, await NeptunRows.CountChatsAsync(_service.Database));
    }

    [Fact]
    public async Task Oversized_headers_and_too_many_headers_are_refused_by_kestrel()
    {
        Assert.StartsWith("HTTP/1.1 431", await RawRequestAsync($"X-Big: {new string('a', 20_000)}\r\n"));
        var many = string.Concat(Enumerable.Range(0, 60).Select(i => $"X-H{i}: v\r\n"));
        Assert.StartsWith("HTTP/1.1 431", await RawRequestAsync(many));
        Assert.Equal(0, await NeptunRows.CountChatsAsync(_service.Database));
    }

    private static string Body(int size)
    {
        var prefix = """{"model":"google/gemma-2-27b-it","name":" """.TrimEnd();
        const string suffix = "\"}";
        return prefix + new string('n', size - prefix.Length - suffix.Length) + suffix;
    }

    private async Task<HttpResponseMessage> PostAsync(string body, bool chunked)
    {
        using var client = new HttpClient { BaseAddress = _service.RestAddress };
        HttpContent content = chunked
            ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)))
            : new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{NeptunApiFixture.AdaId}/projects/{_service.ProjectId}/chats") { Content = content };
        request.Headers.TransferEncodingChunked = chunked;
        request.Headers.Add("Cookie", Sessions.CookieFor(NeptunApiFixture.AdaId));
        return await client.SendAsync(request);
    }

    private async Task AssertRefused(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)expected, error.GetProperty("statusCode").GetInt32());
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(0, await NeptunRows.CountChatsAsync(_service.Database));
    }

    private async Task<string> RawRequestAsync(string extraHeaders)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_service.RestAddress.Host, _service.RestAddress.Port);
        var stream = socket.GetStream();
        var request = $"POST /api/users/{NeptunApiFixture.AdaId}/projects/{_service.ProjectId}/chats HTTP/1.1\r\nHost: localhost\r\n"
            + $"Content-Type: application/json\r\nContent-Length: 2\r\n{extraHeaders}\r\n{{}}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync() ?? "";
    }
}
