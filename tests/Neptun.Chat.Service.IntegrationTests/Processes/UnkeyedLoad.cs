using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Faults;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// Creates for Ada WITHOUT a request id, as docs/clients.md's example sends them: only the answer
/// tells such a caller whether to send again, so every answer must be true. Each name is unique in
/// the run, and <see cref="AuditAsync"/> compares the rows each name has with what its caller was told.
/// </summary>
public sealed class UnkeyedLoad(ChatService.ChatServiceClient client, TestDatabase database, int projectId)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private int _next = -1;
    private int _pushbacks;

    /// <summary>Failures that carried gRPC's retry pushback (a full queue's refusal).</summary>
    public int Pushbacks => Volatile.Read(ref _pushbacks);

    /// <summary>One create; its caller's deadline is <paramref name="deadline"/> from now (30 s unless given).</summary>
    public async Task<LoadCall> CallAsync(TimeSpan? deadline = null) => (await CallWithPushbackAsync(deadline)).Call;

    /// <summary>One create, and the retry pushback its failure carried, if any.</summary>
    private async Task<(LoadCall Call, TimeSpan? Pushback)> CallWithPushbackAsync(TimeSpan? deadline = null)
    {
        var request = new CreateProjectChatRequest
        {
            UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel,
            Name = $"unkeyed {_run} {Interlocked.Increment(ref _next)}",
        };
        var started = Stopwatch.GetTimestamp();
        try
        {
            var reply = await client.CreateProjectChatAsync(request, new CallOptions(FaultLoad.Ada(), DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(30))));
            return (new LoadCall(request.Name, "", StatusCode.OK, reply.Chat.Id, started, Stopwatch.GetElapsedTime(started)), null);
        }
        catch (RpcException exception)
        {
            var call = new LoadCall(request.Name, "", exception.StatusCode, 0, started, Stopwatch.GetElapsedTime(started));
            if (exception.Trailers.Get("grpc-retry-pushback-ms")?.Value is { } pushback)
            {
                Interlocked.Increment(ref _pushbacks);
                return (call, TimeSpan.FromMilliseconds(int.Parse(pushback, System.Globalization.CultureInfo.InvariantCulture)));
            }

            return (call, null);
        }
    }

    /// <summary>
    /// Each worker sends a create, pauses, and sends the next, until <paramref name="stop"/>; calls
    /// are added as they end. A refusal's retry pushback is waited out as gRPC's retry policy does.
    /// </summary>
    public Task RunSteadyAsync(ConcurrentQueue<LoadCall> calls, int workers, TimeSpan pause, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (call, pushback) = await CallWithPushbackAsync();
                calls.Enqueue(call);
                if ((pushback ?? pause) is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, CancellationToken.None);
                }
            }
        }));

    /// <summary>The chat ids stored under each of this run's names (with their project link: orphans are counted apart).</summary>
    public async Task<Dictionary<string, List<int>>> RowsByNameAsync()
    {
        await using var connection = await database.OpenAsync();
        var rows = await connection.QueryAsync<(int Id, string Name)>(
            "SELECT id, name FROM chat_conversation WHERE name LIKE @Prefix", new { Prefix = $"unkeyed {_run} %" });
        return rows.GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.Select(r => r.Id).ToList());
    }

    /// <summary>
    /// What the database holds against what callers were told: every 201 has exactly its one chat,
    /// every UNAVAILABLE has none; DEADLINE_EXCEEDED ("may have completed") may have one.
    /// </summary>
    public async Task<UnkeyedAudit> AuditAsync(IReadOnlyCollection<LoadCall> calls)
    {
        var rows = await RowsByNameAsync();
        var stored = (LoadCall c) => rows.TryGetValue(c.Name, out var ids) ? ids : [];
        return new UnkeyedAudit(
            calls.Count,
            rows.Values.Sum(ids => ids.Count),
            calls.Where(c => c.Status == StatusCode.OK && !(stored(c) is [var id] && id == c.ChatId)).ToList(),
            calls.Where(c => c.Status == StatusCode.Unavailable && stored(c).Count > 0).ToList(),
            calls.Count(c => c.Status == StatusCode.DeadlineExceeded && stored(c).Count > 0),
            rows.Values.Sum(ids => ids.Count - 1),
            await NeptunRows.CountOrphansAsync(database),
            calls.Where(c => c.Status is not (StatusCode.OK or StatusCode.Unavailable or StatusCode.DeadlineExceeded)).ToList());
    }
}

/// <param name="Sent">Creates sent.</param>
/// <param name="Rows">This run's chats in the database.</param>
/// <param name="AcknowledgedWithoutTheirRow">201s whose name has no row, several, or another chat than the answer's.</param>
/// <param name="UnavailableWithARow">503s whose name is stored: the promise that nothing was written, broken.</param>
/// <param name="MayHaveCompletedWithARow">DEADLINE_EXCEEDED answers whose chat was stored (allowed: "may have completed").</param>
/// <param name="Duplicates">Rows beyond the first of a name.</param>
/// <param name="Orphans">Chats without their project link, or links without their chat, in the whole database.</param>
/// <param name="OtherStatuses">Answers that are none of 201, 503 and 504.</param>
public sealed record UnkeyedAudit(
    int Sent, int Rows, IReadOnlyList<LoadCall> AcknowledgedWithoutTheirRow, IReadOnlyList<LoadCall> UnavailableWithARow,
    int MayHaveCompletedWithARow, int Duplicates, long Orphans, IReadOnlyList<LoadCall> OtherStatuses)
{
    public override string ToString() =>
        $"sent {Sent}, rows {Rows}, 201 without their row {AcknowledgedWithoutTheirRow.Count}, 503 with a row {UnavailableWithARow.Count}, "
        + $"504 with a row {MayHaveCompletedWithARow}, duplicates {Duplicates}, orphans {Orphans}, other statuses {OtherStatuses.Count}";

    /// <summary>Every answer true: 201 => its one row, 503 => none, nothing else than 201/503/504, nothing half-written.</summary>
    public void AssertTruthful()
    {
        Assert.True(AcknowledgedWithoutTheirRow.Count == 0, $"201 without exactly its row: {string.Join(", ", AcknowledgedWithoutTheirRow.Take(5).Select(c => c.Name))}");
        Assert.True(UnavailableWithARow.Count == 0, $"503 for a stored chat: {string.Join(", ", UnavailableWithARow.Take(5).Select(c => $"{c.Name} after {c.Elapsed.TotalMilliseconds:F0} ms"))}");
        Assert.True(OtherStatuses.Count == 0, $"undocumented statuses: {string.Join(", ", OtherStatuses.Take(5).Select(c => c.Status))}");
        Assert.Equal(0, Duplicates);
        Assert.Equal(0, Orphans);
    }
}
