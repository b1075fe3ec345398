using System.Net;
using System.Text.Json;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Batching;

/// <summary>
/// Creates written together in one statement each keep their own outcome: a batch is formed on
/// purpose (see <see cref="HeldWriter"/>), and the batch size metric proves it was one.
/// </summary>
public sealed class GroupCommitTests(OneWriterApiFixture api) : IClassFixture<OneWriterApiFixture>
{
    private const int BatchSize = 24;

    [Fact]
    public async Task Creates_of_many_users_in_one_batch_each_get_their_own_outcome_and_one_link()
    {
        var users = new List<(int UserId, int ProjectId)>();
        for (var i = 0; i < BatchSize - 1; i++)
        {
            var userId = await NeptunRows.InsertUserAsync(api.Database);
            users.Add((userId, await NeptunRows.InsertProjectAsync(api.Database, userId)));
        }

        // This user owns no project and asks for Grace's.
        var projectless = await NeptunRows.InsertUserAsync(api.Database);
        users.Insert(BatchSize / 2, (projectless, api.GraceProjectId));

        var results = await InOneBatchAsync(users.Select(u => (Func<Task<Created>>)(() => PostAsync(u.UserId, u.ProjectId, $"Batched for {u.UserId}"))).ToList());

        for (var i = 0; i < users.Count; i++)
        {
            var (userId, projectId) = users[i];
            if (userId == projectless)
            {
                Assert.Equal(HttpStatusCode.NotFound, results[i].Status);
                continue;
            }

            Assert.Equal(HttpStatusCode.Created, results[i].Status);
            var stored = await NeptunRows.ReadChatAsync(api.Database, results[i].ChatId);
            Assert.Equal((userId, projectId, $"Batched for {userId}"), (stored.NeptunUserId, stored.ProjectId, stored.Name));
            Assert.Equal(1, await api.Database.ScalarAsync<long>(
                "SELECT count(*) FROM project_chat_conversation WHERE chat_conversation_id = @Id", new { Id = results[i].ChatId }));
        }

        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE neptun_user_id = @Id", new { Id = projectless }));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
    }

    [Fact]
    public async Task The_same_request_id_twice_in_one_batch_creates_one_chat_and_another_body_with_it_is_422()
    {
        var key = Guid.NewGuid().ToString();
        var creates = new List<Func<Task<Created>>>();
        for (var i = 0; i < BatchSize; i++)
        {
            creates.Add(i switch
            {
                3 or 9 or 17 => () => PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, "Keyed twice", key),
                12 => () => PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, "Keyed with another body", key),
                _ => () => PostAsync(NeptunApiFixture.GraceId, api.GraceProjectId, "Unkeyed"),
            });
        }

        var results = await InOneBatchAsync(creates);

        var keyed = new[] { results[3], results[9], results[17] };
        Assert.All(keyed, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Single(keyed.Select(r => r.ChatId).Distinct());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, results[12].Status);
        Assert.Equal(1, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE id = @Id", new { Id = keyed[0].ChatId }));
        Assert.Equal(1, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE name = 'Keyed twice'"));
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE name = 'Keyed with another body'"));
        Assert.Equal(BatchSize - 1, results.Count(r => r.Status == HttpStatusCode.Created));
    }

    [Theory]
    [InlineData("foreign_key_violation", HttpStatusCode.NotFound)]
    [InlineData("invalid_text_representation", HttpStatusCode.BadRequest)]
    public async Task A_row_that_fails_the_batch_statement_fails_only_its_own_create(string sqlState, HttpStatusCode doomedStatus)
    {
        var doomed = $"Doomed {Guid.NewGuid():N}";
        await FailInsertsNamedAsync(doomed, sqlState);
        try
        {
            var results = await InOneBatchAsync(Enumerable.Range(0, BatchSize).Select(i => (Func<Task<Created>>)(() =>
                PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, i == 7 ? doomed : $"Beside the doomed {i}"))).ToList());

            Assert.Equal(doomedStatus, results[7].Status);
            foreach (var result in results.Where((_, i) => i != 7))
            {
                Assert.Equal(HttpStatusCode.Created, result.Status);
                Assert.Equal(api.AdaProjectId, (await NeptunRows.ReadChatAsync(api.Database, result.ChatId)).ProjectId);
            }

            Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
        }
        finally
        {
            await api.Database.ExecuteAsync("DROP TRIGGER IF EXISTS fail_named_insert ON chat_conversation");
        }
    }

    [Fact]
    public async Task A_batch_the_database_fails_as_a_whole_is_503_for_each_of_its_callers_and_writes_nothing()
    {
        var doomed = $"Doomed {Guid.NewGuid():N}";
        await FailInsertsNamedAsync(doomed, "disk_full");
        try
        {
            var chatsBefore = await NeptunRows.CountChatsAsync(api.Database);
            var results = await InOneBatchAsync(Enumerable.Range(0, BatchSize).Select(i => (Func<Task<Created>>)(() =>
                PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, i == 7 ? doomed : $"In a failed batch {i}"))).ToList());

            Assert.All(results, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.Status));
            Assert.Equal(chatsBefore + 1, await NeptunRows.CountChatsAsync(api.Database)); // the first create, in a batch of its own
        }
        finally
        {
            await api.Database.ExecuteAsync("DROP TRIGGER IF EXISTS fail_named_insert ON chat_conversation");
        }
    }

    /// <summary>
    /// Sends a first create that takes the writer into a lock wait, then <paramref name="creates"/>,
    /// and lets them go once all are queued; checks they were written as one batch.
    /// </summary>
    private async Task<Created[]> InOneBatchAsync(IReadOnlyList<Func<Task<Created>>> creates)
    {
        using var sizes = new BatchSizes(api.Factory.Services);
        Task<Created> first = null!;
        Task<Created[]> batched;
        var (writer, _) = await HeldWriter.StartAsync(api, () => first = PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, "Holding the writer"));
        await using (writer)
        {
            batched = Task.WhenAll(creates.Select(create => create()));
            await writer.UntilQueuedAsync(creates.Count);
        }

        Assert.Equal(HttpStatusCode.Created, (await first).Status);
        var results = await batched;
        Assert.Equal(new[] { 1, creates.Count }, sizes.Recorded.Order());
        return results;
    }

    private async Task<Created> PostAsync(int userId, int projectId, string name, string? key = null)
    {
        using var response = await api.PostChatAsync(Sessions.CookieFor(userId), userId, projectId,
            JsonSerializer.Serialize(new { model = NeptunApiFixture.ValidModel, name }), idempotencyKey: key);
        var chatId = response.StatusCode == HttpStatusCode.Created
            ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("chat").GetProperty("id").GetInt32()
            : 0;
        return new Created(response.StatusCode, chatId);
    }

    /// <summary>A trigger that fails the insert of one chat name with the given condition, as a deleted project or a lost enum value would.</summary>
    private Task FailInsertsNamedAsync(string name, string condition) => api.Database.ExecuteAsync($"""
        CREATE OR REPLACE FUNCTION fail_named_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.name = '{name}' THEN
                RAISE EXCEPTION 'failing this chat on purpose' USING ERRCODE = '{condition}';
            END IF;
            RETURN NEW;
        END $$;
        DROP TRIGGER IF EXISTS fail_named_insert ON chat_conversation;
        CREATE TRIGGER fail_named_insert BEFORE INSERT ON chat_conversation FOR EACH ROW EXECUTE FUNCTION fail_named_insert();
        """);

    private sealed record Created(HttpStatusCode Status, int ChatId);
}
