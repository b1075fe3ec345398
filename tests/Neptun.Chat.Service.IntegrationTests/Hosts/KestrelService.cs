using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Hosts;

/// <summary>The service on real Kestrel sockets (limits are Kestrel's), with its own database and Ada's project.</summary>
public sealed class KestrelService : IAsyncDisposable
{
    private KestrelService(TestDatabase database, ChatServiceFactory factory, int restPort, int grpcPort, int projectId)
    {
        Database = database;
        Factory = factory;
        RestAddress = new Uri($"http://127.0.0.1:{restPort}");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        ProjectId = projectId;
    }

    public TestDatabase Database { get; }
    public ChatServiceFactory Factory { get; }
    public Uri RestAddress { get; }
    public Uri GrpcAddress { get; }
    public int ProjectId { get; }

    public static async Task<KestrelService> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var database = await TestDatabase.CreateAsync();
        var restPort = TestPorts.Next();
        var grpcPort = TestPorts.Next();
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Kestrel:Endpoints:Rest:Url"] = $"http://127.0.0.1:{restPort}",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{grpcPort}",
        };
        var factory = new ChatServiceFactory(database.ConnectionString, all);
        factory.UseKestrel();
        factory.StartServer();
        await NeptunRows.InsertUserAsync(database, NeptunApiFixture.AdaId);
        var projectId = await NeptunRows.InsertProjectAsync(database, NeptunApiFixture.AdaId);
        return new KestrelService(database, factory, restPort, grpcPort, projectId);
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
