using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Hosts;

/// <summary>
/// A service with a database of its own, for a test that changes the database or reads every log
/// line: Ada (the web app's vector user 123) and one project of hers are seeded.
/// </summary>
public sealed class IsolatedService : IAsyncDisposable
{
    private IsolatedService(TestDatabase database, ChatServiceFactory factory)
    {
        Database = database;
        Factory = factory;
        Rest = factory.CreateClient();
    }

    public TestDatabase Database { get; }
    public ChatServiceFactory Factory { get; }
    public HttpClient Rest { get; }
    public int ProjectId { get; private set; }

    /// <param name="testServices">Services added or replaced after the service's own (<see cref="ChatServiceFactory.TestServices"/>).</param>
    public static async Task<IsolatedService> StartAsync(
        string? serverTimeZone = null, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? testServices = null)
    {
        var database = await TestDatabase.CreateAsync(serverTimeZone);
        var service = new IsolatedService(database, new ChatServiceFactory(database.ConnectionString, settings) { TestServices = testServices });
        await NeptunRows.InsertUserAsync(database, NeptunApiFixture.AdaId);
        service.ProjectId = await NeptunRows.InsertProjectAsync(database, NeptunApiFixture.AdaId);
        return service;
    }

    /// <summary>Creates a chat in Ada's project over REST, with her cookie sealed by the web app unless told otherwise.</summary>
    public Task<HttpResponseMessage> PostChatAsync(string body = ChatRequests.ValidBody, string? cookie = null) =>
        Rest.SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, ProjectId, cookie ?? SessionVectors.CookieHeader("valid"), body));

    public async ValueTask DisposeAsync()
    {
        Rest.Dispose();
        await Factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
