using Neptun.Chat.Service.IntegrationTests.Infrastructure;
namespace Neptun.Chat.Service.IntegrationTests.Hosts;

/// <summary>
/// One service and one database shared by a test class, seeded with the two users that the web
/// app's sealed cookies name (123 Ada, 456 Grace), one project each.
/// </summary>
public class NeptunApiFixture : IAsyncLifetime
{
    /// <summary>Service settings over ChatServiceFactory's, for a test class that starts the fixture itself.</summary>
    public IReadOnlyDictionary<string, string?>? Settings { get; init; }

    public const int AdaId = 123;
    public const int GraceId = 456;
    public const string ValidModel = "google/gemma-2-27b-it";

    public TestDatabase Database { get; private set; } = null!;
    public ChatServiceFactory Factory { get; private set; } = null!;
    public HttpClient Rest { get; private set; } = null!;
    public int AdaProjectId { get; private set; }
    public int GraceProjectId { get; private set; }

    public string AdaCookie => SessionVectors.CookieHeader("valid");

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Factory = new ChatServiceFactory(await ServiceConnectionStringAsync(Database), Settings);
        Rest = Factory.CreateClient();
        await NeptunRows.InsertUserAsync(Database, AdaId);
        await NeptunRows.InsertUserAsync(Database, GraceId);
        AdaProjectId = await NeptunRows.InsertProjectAsync(Database, AdaId);
        GraceProjectId = await NeptunRows.InsertProjectAsync(Database, GraceId);
    }

    /// <summary>How the service reaches the database: directly, unless a derived fixture puts something between.</summary>
    protected virtual Task<string> ServiceConnectionStringAsync(TestDatabase database) => Task.FromResult(database.ConnectionString);

    public Task<HttpResponseMessage> PostChatAsync(
        string? cookie, object userId, object projectId, string body, string contentType = "application/json", string? idempotencyKey = null)
    {
        var request = ChatRequests.Create(userId, projectId, cookie, body, contentType);
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return Rest.SendAsync(request);
    }

    public virtual async Task DisposeAsync()
    {
        Rest.Dispose();
        await Factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}
