using Google.Rpc;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>The error table over native gRPC: status codes, messages, rich details, nothing written.</summary>
public abstract class GrpcErrorContract(NeptunApiFixture api)
{
    [Theory]
    [MemberData(nameof(ErrorTable.Names), MemberType = typeof(ErrorTable))]
    public async Task Error_table_row(string caseName)
    {
        var errorCase = ErrorTable.Get(caseName, api);
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);
        var client = api.Factory.CreateChatClient();
        var headers = new Metadata();
        if (errorCase.Cookie is not null)
        {
            headers.Add("cookie", errorCase.Cookie);
        }

        var request = new CreateProjectChatRequest { UserId = errorCase.UserId, ProjectId = errorCase.ProjectId, Model = errorCase.Model, Name = errorCase.Name };
        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(request, headers).ResponseAsync);

        Assert.Equal(errorCase.GrpcStatus, error.StatusCode);
        Assert.Equal(errorCase.Message, error.Status.Detail);
        if (errorCase.GrpcStatus == StatusCode.InvalidArgument)
        {
            var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
            Assert.NotNull(badRequest);
            Assert.NotEmpty(badRequest.FieldViolations);
        }

        Assert.Equal(chatsBefore, await NeptunRows.CountChatsAsync(api.Database));
    }

    [Fact]
    public async Task Invalid_argument_details_name_each_bad_field()
    {
        var client = api.Factory.CreateChatClient();
        var request = new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = api.AdaProjectId, Model = "", Name = "ab" };

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CreateProjectChatAsync(request, new Metadata { { "cookie", api.AdaCookie } }).ResponseAsync);

        var fields = error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field);
        Assert.Equal(["model", "name"], fields);
    }
}

/// <summary>The contract above with the service connected straight to PostgreSQL.</summary>
public sealed class GrpcErrorTests(NeptunApiFixture api) : GrpcErrorContract(api), IClassFixture<NeptunApiFixture>;
