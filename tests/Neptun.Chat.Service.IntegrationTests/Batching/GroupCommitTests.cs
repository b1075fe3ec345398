using System.Net;
using System.Text.Json;
using Dapper;
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

    [Fact]
    public async Task A_project_deleted_while_its_batch_runs_fails_no_create_of_the_batch()
    {
        var doomedProject = await NeptunRows.InsertProjectAsync(api.Database, NeptunApiFixture.AdaId);
        var results = await InOneBatchHeldAtInsertAsync(Enumerable.Range(0, BatchSize).Select(i => (Func<Task<Created>>)(() =>
            PostAsync(NeptunApiFixture.AdaId, i == 7 ? doomedProject : api.AdaProjectId, $"Beside a deleted project {i}"))).ToList(),
            "Beside a deleted project",
            // Deleted once the statement has looked its projects up: the deletion waits for the statement.
            () => api.Database.ExecuteAsync("DELETE FROM neptun_user_project WHERE id = @Id", new { Id = doomedProject }));

        // Written before the deletion, which then took its link with it.
        Assert.Equal(HttpStatusCode.Created, results[7].Status);
        Assert.All(results, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM neptun_user_project WHERE id = @Id", new { Id = doomedProject }));

        // Its chat lost its project with the deletion, as the web app's own chats would; not the other tests' business.
        await api.Database.ExecuteAsync("DELETE FROM chat_conversation WHERE id = @Id", new { Id = results[7].ChatId });
    }

    [Fact]
    public async Task A_model_the_enum_lost_while_its_batch_waited_fails_only_its_own_create()
    {
        const string Lost = "ollama/rwkv-6-world";
        var results = await InOneBatchAsync(Enumerable.Range(0, BatchSize).Select(i => (Func<Task<Created>>)(() =>
            PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, $"Beside a lost model {i}", model: i == 7 ? Lost : null))).ToList(),
            whileQueued: () => api.Database.ExecuteAsync($"ALTER TYPE ai_model_enum RENAME VALUE '{Lost}' TO '{Lost}-renamed'"));
        await api.Database.ExecuteAsync($"ALTER TYPE ai_model_enum RENAME VALUE '{Lost}-renamed' TO '{Lost}'");

        Assert.Equal(HttpStatusCode.BadRequest, results[7].Status);
        Assert.All(results.Where((_, i) => i != 7), r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(api.Database));
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
    /// <param name="whileQueued">Runs while the creates are queued behind the held writer.</param>
    private async Task<Created[]> InOneBatchAsync(IReadOnlyList<Func<Task<Created>>> creates, Func<Task>? whileQueued = null)
    {
        using var sizes = new BatchSizes(api.Factory.Services);
        Task<Created> first = null!;
        Task<Created[]> batched;
        var (writer, _) = await HeldWriter.StartAsync(api, () => first = PostAsync(NeptunApiFixture.AdaId, api.AdaProjectId, "Holding the writer"));
        await using (writer)
        {
            batched = Task.WhenAll(creates.Select(create => create()));
            await writer.UntilQueuedAsync(creates.Count);
            if (whileQueued is not null)
            {
                await whileQueued();
            }
        }

        Assert.Equal(HttpStatusCode.Created, (await first).Status);
        var results = await batched;
        Assert.Equal(new[] { 1, creates.Count }, sizes.Recorded.Order());
        return results;
    }

    /// <summary>
    /// <see cref="InOneBatchAsync"/>, with the inserts of chats named <paramref name="namePrefix"/>
    /// waiting on an advisory lock (a trigger) while <paramref name="change"/> runs, for up to a second.
    /// </summary>
    private async Task<Created[]> InOneBatchHeldAtInsertAsync(IReadOnlyList<Func<Task<Created>>> creates, string namePrefix, Func<Task> change)
    {
        await api.Database.ExecuteAsync($"""
            CREATE OR REPLACE FUNCTION held_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.name LIKE '{namePrefix}%' THEN PERFORM pg_advisory_xact_lock_shared(4343); END IF;
                RETURN NEW;
            END $$;
            DROP TRIGGER IF EXISTS held_insert ON chat_conversation;
            CREATE TRIGGER held_insert BEFORE INSERT ON chat_conversation FOR EACH ROW EXECUTE FUNCTION held_insert();
            """);
        await using var gate = await api.Database.OpenAsync();
        await gate.ExecuteAsync("SELECT pg_advisory_lock(4343)");
        try
        {
            var batch = InOneBatchAsync(creates);
            Assert.NotNull(await Processes.Polling.UntilAsync(async () => batch.IsCompleted || await api.Database.ScalarAsync<long>(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 1, TimeSpan.FromSeconds(60)));
            var changing = change();
            await Task.WhenAny(changing, Task.Delay(TimeSpan.FromSeconds(1)));
            await gate.ExecuteAsync("SELECT pg_advisory_unlock(4343)");
            await changing;
            return await batch;
        }
        finally
        {
            await api.Database.ExecuteAsync("DROP TRIGGER IF EXISTS held_insert ON chat_conversation");
        }
    }

    private async Task<Created> PostAsync(int userId, int projectId, string name, string? key = null, string? model = null)
    {
        using var response = await api.PostChatAsync(Sessions.CookieFor(userId), userId, projectId,
            JsonSerializer.Serialize(new { model = model ?? NeptunApiFixture.ValidModel, name }), idempotencyKey: key);
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
