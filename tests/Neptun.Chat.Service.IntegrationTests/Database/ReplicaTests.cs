using System.Net;
using System.Text.Json;
using Dapper;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>
/// Two replicas of the service (two hosts, each with its own connection pool, both migrating at
/// start as a rolling deployment would) against one database, under concurrent load.
/// </summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private const int CreatesPerReplica = 40;
    private TestDatabase _database = null!;
    private ChatServiceFactory[] _replicas = [];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _replicas = [new ChatServiceFactory(_database.ConnectionString), new ChatServiceFactory(_database.ConnectionString)];
        await Task.WhenAll(_replicas.Select(replica => Task.Run(replica.StartServer)));
    }

    [Fact]
    public async Task Every_201_is_one_chat_with_its_link_across_replicas_with_no_orphan_or_duplicate()
    {
        var ada = await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        var grace = await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.GraceId);
        int[] projects = [await NeptunRows.InsertProjectAsync(_database, ada), await NeptunRows.InsertProjectAsync(_database, grace)];
        int[] users = [ada, grace];

        // Each replica takes REST and gRPC calls for both users at once; one in ten asks for the
        // other user's project, which must write nothing.
        var calls = _replicas.SelectMany((replica, r) => Enumerable.Range(0, CreatesPerReplica).Select(i => CreateAsync(replica, users[i % 2], projects[(i % 10 == 9) ? (i + 1) % 2 : i % 2], i % 3 == 0, $"Replica {r} chat {i}")));
        var results = await Task.WhenAll(calls);

        var created = results.Where(result => result.ChatId is not null).ToList();
        Assert.Equal(2 * CreatesPerReplica * 9 / 10, created.Count);
        Assert.All(results.Where(result => result.ChatId is null), result => Assert.Equal(HttpStatusCode.NotFound, result.Status));
        Assert.Equal(created.Count, created.Select(result => result.ChatId).Distinct().Count());
        Assert.Equal(created.Count, await NeptunRows.CountChatsAsync(_database));
        Assert.Equal(created.Count, await NeptunRows.CountLinksAsync(_database));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(_database));

        // Every answer is the row it names: same name, same project, and no name stored twice.
        await using var connection = await _database.OpenAsync();
        var stored = (await connection.QueryAsync<(int Id, string Name, int ProjectId)>(
            "SELECT c.id, c.name, l.project_id FROM chat_conversation c JOIN project_chat_conversation l ON l.chat_conversation_id = c.id")).ToList();
        Assert.Equal(
            created.Select(result => (result.ChatId!.Value, result.Name, result.ProjectId)).Order(),
            stored.Select(row => (row.Id, row.Name, row.ProjectId)).Order());
    }

    private static async Task<CreateResultLabel> CreateAsync(ChatServiceFactory replica, int userId, int projectId, bool overGrpc, string name)
    {
        var cookie = Sessions.CookieFor(userId);
        if (overGrpc)
        {
            try
            {
                var reply = await replica.CreateChatClient().CreateProjectChatAsync(
                    new CreateProjectChatRequest { UserId = userId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = name },
                    new Metadata { { "cookie", cookie } });
                return new CreateResultLabel(HttpStatusCode.Created, reply.Chat.Id, name, projectId);
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
            {
                return new CreateResultLabel(HttpStatusCode.NotFound, null, name, projectId);
            }
        }

        using var rest = replica.CreateClient();
        using var request = ChatRequests.Create(userId, projectId, cookie, JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }));
        using var response = await rest.SendAsync(request);
        int? id = response.StatusCode == HttpStatusCode.Created
            ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("chat").GetProperty("id").GetInt32()
            : null;
        return new CreateResultLabel(response.StatusCode, id, name, projectId);
    }

    private sealed record CreateResultLabel(HttpStatusCode Status, int? ChatId, string Name, int ProjectId);

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await _database.DisposeAsync();
    }
}
