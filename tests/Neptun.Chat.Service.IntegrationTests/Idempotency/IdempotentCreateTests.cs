using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.Idempotency;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Idempotency;

/// <summary>A request id (REST Idempotency-Key or gRPC request_id) makes a create safe to repeat.</summary>
public abstract class IdempotentCreateContract(NeptunApiFixture api)
{
    private const string Body = """{"model": "google/gemma-2-27b-it", "name": "Retried chat"}""";

    [Fact]
    public async Task Rest_repeat_with_the_same_key_gets_the_same_status_and_body_and_no_second_chat()
    {
        var key = Guid.NewGuid().ToString();
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);

        using var first = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key);
        var firstBody = await first.Content.ReadAsStringAsync();
        using var second = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: $"\"{key}\"");
        var secondBody = await second.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(firstBody, secondBody);
        Assert.Equal(chatsBefore + 1, await NeptunRows.CountChatsAsync(api.Database));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
    }

    [Fact]
    public async Task Grpc_request_id_and_rest_header_name_the_same_request()
    {
        var key = Guid.NewGuid().ToString();
        var grpc = api.Factory.CreateChatClient();
        var reply = await grpc.CreateProjectChatAsync(Request(key), Cookie());
        var again = await grpc.CreateProjectChatAsync(Request(key), Cookie());
        using var rest = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key);

        Assert.Equal(reply.Chat, again.Chat);
        Assert.Equal(HttpStatusCode.Created, rest.StatusCode);
        var restChat = JsonDocument.Parse(await rest.Content.ReadAsStringAsync()).RootElement.GetProperty("chat");
        Assert.Equal(reply.Chat.Id, restChat.GetProperty("id").GetInt32());
        Assert.Equal(1, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE id = @Id", new { reply.Chat.Id }));
    }

    [Fact]
    public async Task Same_key_with_another_body_is_422_on_rest_and_failed_precondition_on_grpc_and_writes_nothing()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);

        using var rest = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId,
            """{"model": "google/gemma-2-27b-it", "name": "Another name"}""", idempotencyKey: key);
        var error = JsonDocument.Parse(await rest.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rest.StatusCode);
        Assert.Equal(422, error.GetProperty("statusCode").GetInt32());
        Assert.Equal("Unprocessable Entity", error.GetProperty("statusMessage").GetString());
        Assert.Equal("This request id was already used for a different request", error.GetProperty("message").GetString());

        var grpc = api.Factory.CreateChatClient();
        var request = Request(key);
        request.Name = "Yet another name";
        var failure = await Assert.ThrowsAsync<RpcException>(() => grpc.CreateProjectChatAsync(request, Cookie()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, failure.StatusCode);

        Assert.Equal(chatsBefore, await NeptunRows.CountChatsAsync(api.Database));
    }

    [Fact]
    public async Task Twenty_concurrent_requests_with_one_key_create_one_chat_and_all_get_it()
    {
        var key = Guid.NewGuid().ToString();
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);
        var grpc = api.Factory.CreateChatClient();

        var ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            if (i % 2 == 0)
            {
                return (await grpc.CreateProjectChatAsync(Request(key), Cookie())).Chat.Id;
            }

            using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Created, text);
            return JsonDocument.Parse(text).RootElement.GetProperty("chat").GetProperty("id").GetInt32();
        }));

        Assert.Single(ids.Distinct());
        Assert.Equal(chatsBefore + 1, await NeptunRows.CountChatsAsync(api.Database));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("8e03978e40d543e8bc936894a57f9324")]
    [InlineData("{8e03978e-40d5-43e8-bc93-6894a57f9324}")]
    public async Task A_key_that_is_not_a_uuid_is_400_and_writes_nothing(string key)
    {
        var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);
        using var response = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Invalid body(model, name)", error.GetProperty("message").GetString());
        Assert.Equal("request_id", error.GetProperty("data").GetProperty("fieldViolations")[0].GetProperty("field").GetString());
        Assert.Equal(chatsBefore, await NeptunRows.CountChatsAsync(api.Database));
    }

    [Fact]
    public async Task Field_and_header_that_disagree_are_400()
    {
        var request = Request(Guid.NewGuid().ToString());
        var headers = Cookie();
        headers.Add("idempotency-key", Guid.NewGuid().ToString());
        var failure = await Assert.ThrowsAsync<RpcException>(() => api.Factory.CreateChatClient().CreateProjectChatAsync(request, headers).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
    }

    [Fact]
    public async Task Keys_belong_to_one_user_so_another_user_with_the_same_key_gets_a_chat_of_their_own()
    {
        var key = Guid.NewGuid().ToString();
        using var ada = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key);
        using var grace = await api.PostChatAsync(Sessions.CookieFor(NeptunApiFixture.GraceId), NeptunApiFixture.GraceId, api.GraceProjectId, Body, idempotencyKey: key);

        Assert.Equal(HttpStatusCode.Created, ada.StatusCode);
        Assert.Equal(HttpStatusCode.Created, grace.StatusCode);
        var graceChat = JsonDocument.Parse(await grace.Content.ReadAsStringAsync()).RootElement.GetProperty("chat");
        Assert.Equal(NeptunApiFixture.GraceId, graceChat.GetProperty("neptun_user_id").GetInt32());
        Assert.Equal(api.GraceProjectId, (await NeptunRows.ReadChatAsync(api.Database, graceChat.GetProperty("id").GetInt32())).ProjectId);
    }

    [Fact]
    public async Task An_expired_key_creates_a_new_chat_and_the_purge_deletes_expired_keys()
    {
        var key = Guid.NewGuid();
        var grpc = api.Factory.CreateChatClient();
        var first = await grpc.CreateProjectChatAsync(Request(key.ToString()), Cookie());
        await Expire(key);

        var second = await grpc.CreateProjectChatAsync(Request(key.ToString()), Cookie());
        Assert.NotEqual(first.Chat.Id, second.Chat.Id);
        Assert.Equal(second.Chat.Id, (await grpc.CreateProjectChatAsync(Request(key.ToString()), Cookie())).Chat.Id);

        await Expire(key);
        var purged = await api.Factory.Services.GetRequiredService<ExpiredRequestIdPurge>().PurgeAsync(CancellationToken.None);
        Assert.True(purged >= 1);
        Assert.Equal(0, await api.Database.ScalarAsync<long>(
            "SELECT count(*) FROM neptun_chat_service.idempotency_key WHERE expires_at <= now()"));
    }

    [Fact]
    public async Task The_key_record_lives_in_the_service_schema_and_keeps_no_row_for_a_failed_request()
    {
        var key = Guid.NewGuid();
        using var notFound = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.GraceProjectId, Body, idempotencyKey: key.ToString());
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal(0, await CountKeyRecords(key));

        using var created = await api.PostChatAsync(api.AdaCookie, NeptunApiFixture.AdaId, api.AdaProjectId, Body, idempotencyKey: key.ToString());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(1, await CountKeyRecords(key));
        Assert.Equal("neptun_chat_service", await api.Database.ScalarAsync<string>(
            "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'idempotency_key'"));
    }

    private Task<long> CountKeyRecords(Guid key) =>
        api.Database.ScalarAsync<long>("SELECT count(*) FROM neptun_chat_service.idempotency_key WHERE request_id = @Key", new { Key = key });

    private Task Expire(Guid key) =>
        api.Database.ExecuteAsync("UPDATE neptun_chat_service.idempotency_key SET expires_at = now() - interval '1 second' WHERE request_id = @Key", new { Key = key });

    private CreateProjectChatRequest Request(string requestId) => new()
    {
        UserId = NeptunApiFixture.AdaId,
        ProjectId = api.AdaProjectId,
        Model = NeptunApiFixture.ValidModel,
        Name = "Retried chat",
        RequestId = requestId,
    };

    private Metadata Cookie() => new() { { "cookie", api.AdaCookie } };
}

public sealed class IdempotentCreateTests(NeptunApiFixture api) : IdempotentCreateContract(api), IClassFixture<NeptunApiFixture>;
