using Neptun.Chat.Service.IntegrationTests.Api;
using Neptun.Chat.Service.IntegrationTests.Idempotency;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Batching;

// The API contract and request ids once more with group commit off (Database:MaxBatchSize=1, one
// create per statement, through the same statement): the other classes run them with batching on.

public sealed class RestCreateUnbatchedTests(UnbatchedApiFixture api) : RestCreateContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class GrpcCreateUnbatchedTests(UnbatchedApiFixture api) : GrpcCreateContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class RestErrorUnbatchedTests(UnbatchedApiFixture api) : RestErrorContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class GrpcErrorUnbatchedTests(UnbatchedApiFixture api) : GrpcErrorContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class IdempotentCreateUnbatchedTests(UnbatchedApiFixture api) : IdempotentCreateContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class UnbatchedPathTests(UnbatchedApiFixture api) : IClassFixture<UnbatchedApiFixture>
{
    [Fact]
    public async Task Every_create_is_a_statement_of_its_own()
    {
        using var sizes = new BatchSizes(api.Factory.Services);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, ChatRequests.ValidBody)));
        Assert.All(responses, response => Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode));
        Assert.Equal(8, sizes.Recorded.Count);
        Assert.All(sizes.Recorded, size => Assert.Equal(1, size));
    }
}
