using System.Net;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>Concurrent creates never lose, merge or orphan a chat.</summary>
public sealed class ConcurrencyTests(NeptunApiFixture api) : IClassFixture<NeptunApiFixture>
{
    [Fact]
    public async Task Fifty_concurrent_creates_give_fifty_chats_fifty_links_and_fifty_ids()
    {
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);
        var linksBefore = await NeptunRows.CountLinksAsync(api.Database);
        var grpc = api.Factory.CreateChatClient();

        // Half over REST, half over gRPC, all at once.
        var creates = Enumerable.Range(0, 50).Select(async i =>
        {
            var name = $"Concurrent {i}";
            if (i % 2 == 0)
            {
                using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
                    JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("chat").GetProperty("id").GetInt32();
            }

            var reply = await grpc.CreateProjectChatAsync(
                new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = NeptunApiFixture.ValidModel, Name = name },
                new Metadata { { "cookie", api.AdaCookie } });
            return reply.Chat.Id;
        });
        var ids = await Task.WhenAll(creates);

        Assert.Equal(50, ids.Distinct().Count());
        Assert.Equal(chatsBefore + 50, await NeptunRows.CountChatsAsync(api.Database));
        Assert.Equal(linksBefore + 50, await NeptunRows.CountLinksAsync(api.Database));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
        foreach (var id in ids)
        {
            Assert.Equal(api.AdaProjectId, (await NeptunRows.ReadChatAsync(api.Database, id)).ProjectId);
        }
    }
}
