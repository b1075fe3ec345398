using Grpc.Core;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// A batch's rows reaching the service in pieces, over a slow network, with socket completions
/// and Kestrel's scheduling inline (as the image runs the service). A row read with a synchronous
/// socket call there waits, on the thread that alone would deliver the rest of the row, for
/// itself: the service answers nothing more. Dapper's QueryAsync did so (sequential access and
/// synchronous getters); every create here must be answered and stored.
/// </summary>
[Collection(RealProcessesCollection.Name)]
[Trait("Category", RealProcessesCollection.Trait)]
public sealed class RowsInPiecesTests
{
    private const int Callers = 48;

    [Fact]
    public async Task A_batch_whose_rows_arrive_in_pieces_is_answered_with_io_completions_inline()
    {
        var database = await TestDatabase.CreateAsync();
        var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        // About a dozen long rows fill one of PostgreSQL's 8 KB sends: a batch of them spans several.
        await using var proxy = TricklingProxy.Start(server.Host!, server.Port, pieceBytes: 1024, pause: TimeSpan.FromMilliseconds(2));
        var throughProxy = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var service = await ServiceProcess.StartAsync(throughProxy, new Dictionary<string, string>
        {
            ["SocketTransport__UnsafePreferInlineScheduling"] = "true",
            ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1",
        });
        var projectId = await service.ServeAdaProjectAsync(database);
        var client = service.CreateChatClient();

        var calls = Enumerable.Range(0, Callers).Select(async index =>
        {
            try
            {
                await client.CreateProjectChatAsync(
                    new CreateProjectChatRequest
                    {
                        UserId = NeptunApiFixture.AdaId,
                        ProjectId = projectId,
                        Model = NeptunApiFixture.ValidModel,
                        Name = $"in pieces {index} ".PadRight(CreateProjectChatValidator.MaxNameLength, 'x'),
                    },
                    FaultLoad.Ada(),
                    DateTime.UtcNow.AddSeconds(20));
                return StatusCode.OK;
            }
            catch (RpcException exception)
            {
                return exception.StatusCode;
            }
        });
        var statuses = await Task.WhenAll(calls);

        Assert.All(statuses, status => Assert.Equal(StatusCode.OK, status));
        // The warm-up's chat and every caller's.
        Assert.Equal(Callers + 1, await NeptunRows.CountChatsAsync(database));
    }
}
