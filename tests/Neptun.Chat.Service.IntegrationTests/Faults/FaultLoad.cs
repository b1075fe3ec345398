using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Grpc.Core;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Faults;

/// <summary>What one create of a load run got: its name (unique in the run), request id, status and chat id, and when it ran.</summary>
/// <param name="StartedAt">A <see cref="Stopwatch.GetTimestamp"/> value.</param>
/// <param name="Detail">The status message: the service's own (the error table's) or the client's, for a transport failure.</param>
public sealed record LoadCall(string Name, string RequestId, StatusCode Status, int ChatId, long StartedAt, TimeSpan Elapsed, string Detail = "")
{
    public long EndedAt => StartedAt + (long)(Elapsed.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>
/// A bounded load of idempotent gRPC creates for Ada against an in-process service, and the audit
/// of the database afterwards: every acknowledged create has its chat and link, no chat lacks its
/// link, no name is stored twice, and an errored create either left nothing or left exactly the
/// chat that a retry with its request id gets back.
/// </summary>
public sealed class FaultLoad(Func<ChatService.ChatServiceClient> clients, TestDatabase database, int projectId)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public async Task<IReadOnlyList<LoadCall>> RunAsync(int requests, int concurrency, Func<int, CallOptions> options)
    {
        var client = clients();
        var calls = new ConcurrentBag<LoadCall>();
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) =>
            calls.Add(await CallAsync(client, i, options(i))));
        return [.. calls];
    }

    /// <summary>
    /// A steady load until <paramref name="stop"/> (or <paramref name="maxRequests"/>): each worker
    /// sends a create, pauses, and sends the next. Calls are added to <paramref name="calls"/> as
    /// they end, so a test can watch the load while it runs.
    /// </summary>
    public async Task RunSteadyAsync(ConcurrentQueue<LoadCall> calls, int workers, TimeSpan pause, int maxRequests, CancellationToken stop)
    {
        var client = clients();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < maxRequests && !stop.IsCancellationRequested; i = Interlocked.Increment(ref next))
            {
                calls.Enqueue(await CallAsync(client, i, new CallOptions(Ada(), deadline: DateTime.UtcNow.AddSeconds(30))));
                await Task.Delay(pause, CancellationToken.None);
            }
        }));
    }

    /// <summary>Checks the database against what callers were told, retries every errored create once, and returns the figures line.</summary>
    public async Task<string> AuditAsync(string fault, IReadOnlyList<LoadCall> calls)
    {
        await using var connection = await database.OpenAsync();
        var rows = (await connection.QueryAsync<(int Id, string Name, long Links)>("""
            SELECT c.id, c.name, (SELECT count(*) FROM project_chat_conversation l WHERE l.chat_conversation_id = c.id)
            FROM chat_conversation c WHERE c.name LIKE @Prefix
            """, new { Prefix = $"fault {_run} %" })).ToList();
        var byName = rows.GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.ToList());
        var acknowledged = calls.Where(c => c.Status == StatusCode.OK).ToList();
        var orphans = rows.Count(r => r.Links != 1);
        var duplicates = byName.Values.Sum(g => g.Count - 1);

        foreach (var call in acknowledged)
        {
            Assert.True(byName.TryGetValue(call.Name, out var stored) && stored.Single().Id == call.ChatId, $"{fault}: acknowledged chat {call.ChatId} is missing");
        }

        // The service's UNAVAILABLE promises that nothing was written. Only a caller that gave up
        // (its own deadline, a cancel), lost its connection (the client's own UNAVAILABLE) or was
        // told the outcome is unknown (DEADLINE_EXCEEDED) can find a chat it was not told about;
        // its request id must then give it back, not make a second one.
        var client = clients();
        var errored = calls.Where(c => c.Status != StatusCode.OK).ToList();
        var erroredWithRow = 0;
        foreach (var call in errored.Where(c => byName.ContainsKey(c.Name)))
        {
            var answeredUnwritten = call.Status == StatusCode.Unavailable && call.Detail == ApiErrors.Unavailable.Message;
            Assert.False(answeredUnwritten, $"{fault}: {call.Name} was answered 503 by the service but is stored");
            Assert.Contains(call.Status, (StatusCode[])[StatusCode.DeadlineExceeded, StatusCode.Cancelled, StatusCode.Unavailable]);
            erroredWithRow++;
            var retry = await client.CreateProjectChatAsync(Request(call.Name, call.RequestId), Ada());
            Assert.Equal(byName[call.Name].Single().Id, retry.Chat.Id);
        }

        Assert.Equal(0, orphans);
        Assert.Equal(0, duplicates);
        Assert.Equal(0, await NeptunRows.CountOrphansAsync(database));
        var worst = calls.Max(c => c.Elapsed);
        var failures = string.Join(" ", errored.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"));
        return $"{fault}: sent {calls.Count}, acknowledged {acknowledged.Count}, rows found {rows.Count}, orphans {orphans}, duplicates {duplicates}, "
            + $"5xx {errored.Count(c => c.Status is StatusCode.Internal or StatusCode.Unknown or StatusCode.Unavailable)} ({failures}), "
            + $"errored with a row {erroredWithRow}, worst latency {worst.TotalMilliseconds:F0} ms, "
            + $"worst failure {errored.Select(c => c.Elapsed.TotalMilliseconds).DefaultIfEmpty(0).Max():F0} ms";
    }

    private async Task<LoadCall> CallAsync(ChatService.ChatServiceClient client, int index, CallOptions options)
    {
        var request = Request(index, Guid.NewGuid().ToString());
        var started = Stopwatch.GetTimestamp();
        try
        {
            var reply = await client.CreateProjectChatAsync(request, options);
            return new LoadCall(request.Name, request.RequestId, StatusCode.OK, reply.Chat.Id, started, Stopwatch.GetElapsedTime(started));
        }
        catch (RpcException exception)
        {
            return new LoadCall(request.Name, request.RequestId, exception.StatusCode, 0, started, Stopwatch.GetElapsedTime(started), exception.Status.Detail);
        }
    }

    public static Metadata Ada() => new() { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } };

    private CreateProjectChatRequest Request(int index, string requestId) => Request($"fault {_run} {index}", requestId);

    private CreateProjectChatRequest Request(string name, string requestId) => new()
    {
        UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = name, RequestId = requestId,
    };
}
