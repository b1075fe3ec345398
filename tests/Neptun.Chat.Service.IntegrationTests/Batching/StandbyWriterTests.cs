using System.Net;
using Dapper;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;

namespace Neptun.Chat.Service.IntegrationTests.Batching;

/// <summary>
/// One writer writes while the database keeps up; with the default settings a second stands by, so
/// that a statement waiting on a lock does not hold up the creates queued behind it.
/// </summary>
public sealed class StandbyWriterTests
{
    [Fact]
    public async Task A_create_waiting_on_a_lock_does_not_hold_up_a_create_of_another_project()
    {
        await using var service = await IsolatedService.StartAsync();
        var otherProjectId = await NeptunRows.InsertProjectAsync(service.Database, NeptunApiFixture.AdaId);

        await using var locker = await service.Database.OpenAsync();
        var transaction = await locker.BeginTransactionAsync();
        // The link's foreign key takes a key-share lock on its project's row, which FOR UPDATE blocks.
        await locker.ExecuteAsync(
            "SELECT 1 FROM public.neptun_user_project WHERE id = @Id FOR UPDATE", new { Id = service.ProjectId }, transaction);
        var held = service.PostChatAsync();
        var waiting = await Polling.UntilAsync(
            async () => await service.Database.CountServiceStatementsWaitingOnLockAsync() == 1, TimeSpan.FromSeconds(30));

        HttpResponseMessage other;
        try
        {
            Assert.NotNull(waiting);
            other = await service.Rest.SendAsync(ChatRequests.Create(
                NeptunApiFixture.AdaId, otherProjectId, SessionVectors.CookieHeader("valid")));
            Assert.False(held.IsCompleted, "The held create ended before its lock was released.");
        }
        finally
        {
            await transaction.CommitAsync();
        }

        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await held).StatusCode);
        Assert.Equal(2, await service.Database.ScalarAsync<long>("SELECT count(*) FROM public.project_chat_conversation"));
    }
}
