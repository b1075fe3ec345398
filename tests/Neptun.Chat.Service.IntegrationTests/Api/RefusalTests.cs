using System.Net;
using System.Text.Json;
using Google.Rpc;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// A refusal reaches each surface as it was thrown: the REST body is written from the exception's
/// own row and fields, never found again by its status and message. The row thrown here is in no
/// table, so only the exception itself can tell the REST contract what to write.
/// </summary>
public sealed class RefusalTests : IAsyncLifetime
{
    private static readonly ApiError RowOutsideTheTable = new("a test's own refusal", 409, StatusCode.Aborted, "Refused by the test", "name");
    private static readonly BadRequest.Types.FieldViolation Violation = new() { Field = "name", Description = "is refused by the test" };

    private IsolatedService _service = null!;

    public async Task InitializeAsync() =>
        _service = await IsolatedService.StartAsync(
            testServices: services => services.Configure<GrpcServiceOptions>(options => options.Interceptors.Add<RefusingInterceptor>()));

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task Rest_writes_the_thrown_row_and_its_fields()
    {
        using var response = await _service.PostChatAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(409, body.GetProperty("statusCode").GetInt32());
        Assert.Equal("Refused by the test", body.GetProperty("message").GetString());
        var violation = Assert.Single(body.GetProperty("data").GetProperty("fieldViolations").EnumerateArray());
        Assert.Equal("name", violation.GetProperty("field").GetString());
        Assert.Equal("is refused by the test", violation.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Native_grpc_gets_the_rows_status_message_and_details()
    {
        var request = new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = _service.ProjectId, Model = NeptunApiFixture.ValidModel, Name = "Refused" };

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _service.Factory.CreateChatClient().CreateProjectChatAsync(request, new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } }).ResponseAsync);

        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("Refused by the test", error.Status.Detail);
        Assert.Equal([Violation], error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations);
    }

    /// <summary>Runs inside the service's error interceptor and refuses every call with the row above.</summary>
    private sealed class RefusingInterceptor : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
            throw new ApiException(RowOutsideTheTable, [Violation]);
    }
}
