using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>The same RPC over native gRPC.</summary>
public abstract class GrpcCreateContract(NeptunApiFixture api)
{
    [Fact]
    public async Task Creates_the_chat_and_its_link()
    {
        var client = api.Factory.CreateChatClient();
        var before = DateTime.UtcNow.AddSeconds(-1);

        var response = await client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = "ollama/rwkv-6-world", Name = "Over gRPC" },
            new Metadata { { "cookie", api.AdaCookie } });

        var chat = response.Chat;
        var stored = await NeptunRows.ReadChatAsync(api.Database, chat.Id);
        Assert.Equal(NeptunApiFixture.AdaId, chat.NeptunUserId);
        Assert.Equal(stored.NeptunUserId, chat.NeptunUserId);
        Assert.Equal("ollama/rwkv-6-world", chat.Model);
        Assert.Equal(stored.Model, chat.Model);
        Assert.Equal("Over gRPC", chat.Name);
        Assert.Equal(stored.Name, chat.Name);
        Assert.Equal(DateTime.SpecifyKind(stored.CreatedAt, DateTimeKind.Utc), chat.CreatedAt.ToDateTime());
        Assert.Equal(DateTime.SpecifyKind(stored.UpdatedAt, DateTimeKind.Utc), chat.UpdatedAt.ToDateTime());
        Assert.InRange(chat.CreatedAt.ToDateTime(), before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(api.AdaProjectId, stored.ProjectId);
    }

    [Fact]
    public async Task Another_users_cookie_creates_for_that_user_only()
    {
        var client = api.Factory.CreateChatClient();
        var cookie = SessionVectors.CookieHeader("valid-other-user");

        var response = await client.CreateProjectChatAsync(
            new CreateProjectChatRequest { UserId = NeptunApiFixture.GraceId, ProjectId = api.GraceProjectId, Model = NeptunApiFixture.ValidModel, Name = "Grace's chat" },
            new Metadata { { "cookie", cookie } });

        Assert.Equal(NeptunApiFixture.GraceId, (await NeptunRows.ReadChatAsync(api.Database, response.Chat.Id)).NeptunUserId);
    }
}

/// <summary>The contract above with the service connected straight to PostgreSQL.</summary>
public sealed class GrpcCreateTests(NeptunApiFixture api) : GrpcCreateContract(api), IClassFixture<NeptunApiFixture>;
