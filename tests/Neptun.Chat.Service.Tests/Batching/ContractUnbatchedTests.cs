using Neptun.Chat.Service.Tests.Api;
using Neptun.Chat.Service.Tests.Idempotency;
using Neptun.Chat.Service.Tests.Infrastructure;

namespace Neptun.Chat.Service.Tests.Batching;

// The API contract and request ids once more with group commit off (Database:MaxBatchSize=1): the
// other classes run them with batching on, the default.

public sealed class RestCreateUnbatchedTests(UnbatchedApiFixture api) : RestCreateContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class GrpcCreateUnbatchedTests(UnbatchedApiFixture api) : GrpcCreateContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class RestErrorUnbatchedTests(UnbatchedApiFixture api) : RestErrorContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class GrpcErrorUnbatchedTests(UnbatchedApiFixture api) : GrpcErrorContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class IdempotentCreateUnbatchedTests(UnbatchedApiFixture api) : IdempotentCreateContract(api), IClassFixture<UnbatchedApiFixture>;

public sealed class UnbatchedPathTests(UnbatchedApiFixture api) : IClassFixture<UnbatchedApiFixture>
{
    [Fact]
    public async Task No_create_goes_through_a_batch()
    {
        using var sizes = new BatchSizes(api.Factory.Services);
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, ChatRequests.ValidBody);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        Assert.Empty(sizes.Recorded);
    }
}
