using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// Another .NET service's view: the Contracts project's client registered with
/// Grpc.Net.ClientFactory as docs/clients.md shows it (retry policy in the service config, a deadline
/// and the user's cookie on each call), calling the real service.
/// </summary>
public sealed class ClientFactoryTests(NeptunApiFixture api) : IClassFixture<NeptunApiFixture>
{
    private const int MaxAttempts = 3;

    [Fact]
    public async Task A_client_from_the_factory_creates_a_chat_and_sees_the_error_table()
    {
        await using var caller = CallerServices(api.Factory);
        var client = caller.GetRequiredService<ChatService.ChatServiceClient>();

        var reply = await client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = "From another service" },
            CallOptionsFor(Sessions.CookieFor(NeptunApiFixture.AdaId)));
        Assert.Equal("From another service", reply.Chat.Name);
        Assert.Equal(NeptunApiFixture.AdaId, reply.Chat.NeptunUserId);

        var notFound = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.GraceProjectId, Model = NeptunApiFixture.ValidModel, Name = "Not mine" },
            CallOptionsFor(Sessions.CookieFor(NeptunApiFixture.AdaId))).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
    }

    [Fact]
    public async Task The_retry_policy_retries_unavailable_and_gives_up_after_its_attempts()
    {
        await using var unreachable = UnreachableDatabase.CreateFactory();
        await using var caller = CallerServices(unreachable);
        var client = caller.GetRequiredService<ChatService.ChatServiceClient>();

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = 1, Model = NeptunApiFixture.ValidModel, Name = "Retried" },
            CallOptionsFor(Sessions.CookieFor(NeptunApiFixture.AdaId))).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(MaxAttempts, unreachable.Logs.Lines.Count(line => line.Contains("Route=/neptun.chat.v1.ChatService/CreateProjectChat", StringComparison.Ordinal)));
    }

    // What a caller writes in its own Program.cs; only the primary handler is the test's, so that
    // the calls reach the in-process service.
    private static ServiceProvider CallerServices(ChatServiceFactory service)
    {
        var services = new ServiceCollection();
        services.AddGrpcClient<ChatService.ChatServiceClient>(options => options.Address = service.Server.BaseAddress)
            .ConfigureChannel(channel => channel.ServiceConfig = new ServiceConfig
            {
                MethodConfigs =
                {
                    new MethodConfig
                    {
                        Names = { MethodName.Default },
                        RetryPolicy = new RetryPolicy
                        {
                            MaxAttempts = MaxAttempts,
                            InitialBackoff = TimeSpan.FromMilliseconds(100),
                            MaxBackoff = TimeSpan.FromSeconds(1),
                            BackoffMultiplier = 2,
                            RetryableStatusCodes = { StatusCode.Unavailable },
                        },
                    },
                },
            })
            .ConfigurePrimaryHttpMessageHandler(() => service.Server.CreateHandler());
        return services.BuildServiceProvider();
    }

    private static CallOptions CallOptionsFor(string cookie) =>
        new(headers: new Metadata { { "cookie", cookie } }, deadline: DateTime.UtcNow.AddSeconds(10));
}
