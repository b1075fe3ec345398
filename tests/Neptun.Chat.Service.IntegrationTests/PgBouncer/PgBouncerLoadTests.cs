using System.Net;
using System.Text.Json;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.PgBouncer;

/// <summary>
/// Concurrent creates through a pooler with fewer server connections than the service has clients,
/// connected as docs/operations.md says: server connections change hands between transactions, which a
/// prepared statement would not survive.
/// </summary>
public sealed class PgBouncerLoadTests : IAsyncLifetime
{
    private const int Creates = 60;
    private TestDatabase _database = null!;
    private Infrastructure.PgBouncer _bouncer = null!;
    private ChatServiceFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _bouncer = await Infrastructure.PgBouncer.StartAsync(serverConnections: 2);
        _factory = new ChatServiceFactory(_bouncer.ConnectionStringFor(_database.Name));
        _factory.StartServer();
    }

    [Fact]
    public async Task Every_concurrent_create_through_two_server_connections_is_a_201_with_one_chat()
    {
        await NeptunRows.InsertUserAsync(_database, NeptunApiFixture.AdaId);
        var projectId = await NeptunRows.InsertProjectAsync(_database, NeptunApiFixture.AdaId);
        using var rest = _factory.CreateClient();

        var statuses = await Task.WhenAll(Enumerable.Range(0, Creates).Select(async i =>
        {
            using var request = ChatRequests.Create(NeptunApiFixture.AdaId, projectId, Sessions.CookieFor(NeptunApiFixture.AdaId), JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name = $"Pooled {i}" }));
            using var response = await rest.SendAsync(request);
            return response.StatusCode;
        }));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.Created, status));
        Assert.Equal(Creates, await NeptunRows.CountChatsAsync(_database));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(_database));
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _bouncer.DisposeAsync();
        await _database.DisposeAsync();
    }
}
