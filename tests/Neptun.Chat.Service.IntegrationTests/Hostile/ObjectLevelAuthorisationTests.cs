using System.Net;
using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Hostile;

/// <summary>
/// Every combination of path user, project and session, over REST and gRPC: a chat is created only
/// for the session's own user in that user's own project, and nothing else is ever written.
/// </summary>
public sealed class ObjectLevelAuthorisationTests(NeptunApiFixture api) : IClassFixture<NeptunApiFixture>
{
    private const int MissingId = 987_654;

    [Fact]
    public async Task No_combination_of_path_user_project_and_session_writes_into_another_users_project()
    {
        var ada = Sessions.SealFor(NeptunApiFixture.AdaId);
        var grace = Sessions.SealFor(NeptunApiFixture.GraceId);
        (string Name, int? UserId, Metadata Headers)[] sessions =
        [
            ("ada cookie", NeptunApiFixture.AdaId, new Metadata { { "cookie", $"neptun-session={ada}" } }),
            ("grace cookie", NeptunApiFixture.GraceId, new Metadata { { "cookie", $"neptun-session={grace}" } }),
            // h3 reads its header before the cookie: the header's user is the session.
            ("grace header, ada cookie", NeptunApiFixture.GraceId, new Metadata { { "x-neptun-session-session", grace }, { "cookie", $"neptun-session={ada}" } }),
            ("ada header, grace cookie", NeptunApiFixture.AdaId, new Metadata { { "x-neptun-session-session", ada }, { "cookie", $"neptun-session={grace}" } }),
            ("two cookies", null, new Metadata { { "cookie", $"neptun-session={ada}; neptun-session={grace}" } }),
            ("no session", null, []),
        ];
        int[] users = [NeptunApiFixture.AdaId, NeptunApiFixture.GraceId, MissingId];
        int[] projects = [api.AdaProjectId, api.GraceProjectId, MissingId];
        var owners = new Dictionary<int, int> { [api.AdaProjectId] = NeptunApiFixture.AdaId, [api.GraceProjectId] = NeptunApiFixture.GraceId };
        var grpc = api.Factory.CreateChatClient();
        var created = 0;

        foreach (var (sessionName, sessionUser, headers) in sessions)
        {
            foreach (var user in users)
            {
                foreach (var project in projects)
                {
                    // The body names the other user's project too; the path must win and the check must hold.
                    foreach (var overGrpc in new[] { false, true })
                    {
                        var where = $"{sessionName}, path user {user}, project {project}, {(overGrpc ? "gRPC" : "REST")}";
                        var (ok, chatUser, chatId) = overGrpc ? await CreateOverGrpc(grpc, headers, user, project) : await CreateOverRest(headers, user, project);
                        if (!ok)
                        {
                            continue;
                        }

                        created++;
                        var stored = await NeptunRows.ReadChatAsync(api.Database, chatId);
                        Assert.True(owners.TryGetValue(project, out var owner) && owner == user, where);
                        Assert.True(sessionUser is null || sessionUser == user, where);
                        Assert.Equal(user, chatUser);
                        Assert.Equal(user, stored.NeptunUserId);
                        Assert.Equal(project, stored.ProjectId);
                    }
                }
            }
        }

        Assert.True(created >= 8, $"only {created} legitimate creates succeeded");
        Assert.Equal(0, await api.Database.ScalarAsync<long>("""
            SELECT count(*) FROM chat_conversation c
            JOIN project_chat_conversation l ON l.chat_conversation_id = c.id
            JOIN neptun_user_project p ON p.id = l.project_id
            WHERE p.neptun_user_id <> c.neptun_user_id
            """));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
    }

    private async Task<(bool Ok, int User, int ChatId)> CreateOverRest(Metadata headers, int user, int project)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{user}/projects/{project}/chats")
        {
            Content = new StringContent(
                JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name = "Authorisation probe", user_id = NeptunApiFixture.GraceId, project_id = api.GraceProjectId }),
                System.Text.Encoding.UTF8, "application/json"),
        };
        foreach (var entry in headers)
        {
            request.Headers.TryAddWithoutValidation(entry.Key, entry.Value);
        }

        using var response = await api.Rest.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            Assert.Contains((int)response.StatusCode, new[] { 401, 403, 404 });
            return (false, 0, 0);
        }

        var chat = JsonDocument.Parse(text).RootElement.GetProperty("chat");
        return (true, chat.GetProperty("neptun_user_id").GetInt32(), chat.GetProperty("id").GetInt32());
    }

    private static async Task<(bool Ok, int User, int ChatId)> CreateOverGrpc(ChatService.ChatServiceClient client, Metadata headers, int user, int project)
    {
        try
        {
            var reply = await client.CreateProjectChatAsync(
                new CreateProjectChatRequest { UserId = user, ProjectId = project, Model = NeptunApiFixture.ValidModel, Name = "Authorisation probe" }, headers);
            return (true, reply.Chat.NeptunUserId, reply.Chat.Id);
        }
        catch (RpcException exception)
        {
            Assert.Contains(exception.StatusCode, new[] { StatusCode.Unauthenticated, StatusCode.PermissionDenied, StatusCode.NotFound });
            return (false, 0, 0);
        }
    }
}
