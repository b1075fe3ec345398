using System.Diagnostics;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Idempotency;
using Npgsql;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Group commit: long-lived writers (<see cref="DatabaseOptions.MaxBatchWriters"/>) each take
/// everything queued, up to <see cref="DatabaseOptions.MaxBatchSize"/>, and write it as one
/// statement and one commit. There is no timer: a create that finds the first writer free is
/// written at once, alone; batches form while it is busy. The writers after the first stand by
/// (<see cref="StandbyAfter"/>). A batch size of 1 writes each create on its own, through the same
/// statement. On shutdown the queue is closed and what it holds is written before the writers end.
/// </summary>
public sealed class ChatCreateWriters(
    ChatCreateQueue queue,
    ChatRepository repository,
    DatabaseFailures failures,
    ChatCreateMetrics metrics,
    IOptions<DatabaseOptions> database,
    IOptions<IdempotencyOptions> idempotency,
    ILogger<ChatCreateWriters> logger)
    : BackgroundService
{
    // How long past their deadline the callers of a statement wait for the database to give it
    // back; then, if its COMMIT was sent, how much longer for the commit's outcome.
    private static readonly TimeSpan AnswerGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CommitGrace = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// The writers after the first take creates only once the oldest queued one has waited this
    /// long: when the first is held up (a statement waiting on a lock, a slow database). Until then
    /// one writer makes the largest batches, so the fewest statements, commits and wake-ups per
    /// create (docs/performance.md has the A/B). Far above a batch's usual time, far below a
    /// create's deadline.
    /// </summary>
    internal static readonly TimeSpan StandbyAfter = TimeSpan.FromMilliseconds(50);

    private double _secondsPerCreate;

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        return base.StopAsync(cancellationToken);
    }

    // The writers do not stop on the stopping token: the queue's closing ends them once it is empty.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, database.Value.MaxBatchWriters)
            .Select(index => Task.Run(() => WriteUntilClosedAsync(standsBy: index > 0), CancellationToken.None)));

    private async Task WriteUntilClosedAsync(bool standsBy)
    {
        var maxBatchSize = database.Value.MaxBatchSize;
        var batch = new List<PendingCreate>(maxBatchSize);
        while (await queue.Reader.WaitToReadAsync())
        {
            if (standsBy && !await OldestWaitedLongAsync())
            {
                continue;
            }

            batch.Clear();
            var limit = maxBatchSize;
            while (batch.Count < limit && queue.Reader.TryRead(out var pending))
            {
                metrics.LeftQueue(Stopwatch.GetElapsedTime(pending.EnqueuedTimestamp));
                if (pending.TryTake())
                {
                    batch.Add(pending);
                    if (batch.Count == 1)
                    {
                        limit = CreatesThatFit(pending.Deadline.Remaining, maxBatchSize);
                    }
                }
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch);
            }
        }
    }

    /// <summary>
    /// True when the oldest queued create has waited <see cref="StandbyAfter"/>; otherwise waits
    /// until it would have (or the queue is empty) and returns false, to look again.
    /// </summary>
    private async Task<bool> OldestWaitedLongAsync()
    {
        if (!queue.Reader.TryPeek(out var oldest))
        {
            return false;
        }

        var waited = Stopwatch.GetElapsedTime(oldest.EnqueuedTimestamp);
        if (waited >= StandbyAfter)
        {
            return true;
        }

        await Task.Delay(StandbyAfter - waited, CancellationToken.None);
        return false;
    }

    /// <summary>Writes one batch and answers each of its creates; never throws.</summary>
    private async Task WriteAsync(List<PendingCreate> batch)
    {
        metrics.BatchWritten(batch.Count);

        // The batch's database span goes into the trace of its oldest create.
        Activity.Current = batch[0].Activity;
        try
        {
            // A create that must read what another one wrote goes into the next statement.
            var next = batch;
            while (next.Count > 0)
            {
                var (statement, later) = SplitRepeatedRequestIds(next);
                later.AddRange(await WriteStatementAsync(statement));
                next = later;
            }
        }
        catch (Exception exception)
        {
            // A bug of the service's own, outside any statement: the creates not yet answered
            // were not written by a statement that failed, but one may have committed; say so.
            Log.UnexpectedFailure(logger, nameof(WriteAsync), exception);
            foreach (var pending in batch)
            {
                Fail(pending, CreateResult.Unknown, ChatErrors.MayHaveCompleted());
            }
        }
        finally
        {
            Activity.Current = null;
        }
    }

    /// <summary>
    /// Runs one statement for <paramref name="statement"/> within the earliest of their deadlines
    /// and answers each create; returns those that must run again to read another's record.
    /// </summary>
    private async Task<List<PendingCreate>> WriteStatementAsync(List<PendingCreate> statement)
    {
        var deadline = statement[0].Deadline;
        foreach (var pending in statement)
        {
            deadline = Deadline.Earliest(deadline, pending.Deadline);
        }

        var runAgain = new List<PendingCreate>();
        if (deadline.HasPassed)
        {
            // Re-runs after a failed or raced statement: their time is up, and nothing of theirs was written.
            foreach (var pending in statement)
            {
                Fail(pending, CreateResult.NotWritten, ChatErrors.Unavailable());
            }

            return runAgain;
        }

        ChatCreateResult[] results;
        var started = Stopwatch.GetTimestamp();
        using (var timeout = new CancellationTokenSource(deadline.Remaining))
        {
            try
            {
                var gate = new CommitGate();
                results = await AnsweringLateAsync(statement, gate, deadline,
                    repository.CreateProjectChatsAsync(statement.ConvertAll(p => p.Chat), idempotency.Value.Retention, gate, timeout.Token));
                LearnCost(Stopwatch.GetElapsedTime(started), statement.Count);
            }
            catch (PostgresException exception) when (statement.Count > 1 && !SqlStates.IsAboutTheServer(exception.SqlState))
            {
                // One create's row failed the statement for all (a project deleted meanwhile, a
                // model the enum lost): nothing was written, and each runs alone for its own outcome.
                Log.BatchRunAlone(logger, statement.Count, exception.SqlState);
                foreach (var pending in statement)
                {
                    runAgain.AddRange(await WriteStatementAsync([pending]));
                }

                return runAgain;
            }
            catch (Exception exception)
            {
                // The statement failed or was cut off before its COMMIT was sent: rolled back.
                if (timeout.IsCancellationRequested)
                {
                    LearnCost(Stopwatch.GetElapsedTime(started), statement.Count);
                }

                var error = failures.ToRpcException(exception, timedOut: timeout.IsCancellationRequested);
                foreach (var pending in statement)
                {
                    Fail(pending, CreateResult.NotWritten, error);
                }

                return runAgain;
            }
        }

        for (var i = 0; i < statement.Count; i++)
        {
            var pending = statement[i];
            var result = results[i];
            switch (result.Outcome)
            {
                case CreateOutcome.Created:
                    Answer(pending, CreateResult.Written, result.Creation);
                    break;
                case CreateOutcome.Replayed:
                    Answer(pending, CreateResult.Replayed, result.Creation);
                    break;
                case CreateOutcome.NotFound:
                    Answer(pending, CreateResult.NotFound, null);
                    break;
                case CreateOutcome.RunAgain:
                    runAgain.Add(pending);
                    break;
                case CreateOutcome.RolledBack:
                    Fail(pending, CreateResult.NotWritten, ChatErrors.Unavailable());
                    break;
                default:
                    Fail(pending, CreateResult.Unknown, ChatErrors.MayHaveCompleted());
                    break;
            }
        }

        return runAgain;
    }

    // Npgsql cancels a statement with a cancel request and waits for the server to take it before
    // its Cancellation Timeout starts: a frozen server would hold the writer, and so its callers,
    // until it resumes. The writer goes on waiting (it holds one connection, no more), but its
    // callers are answered without the database: 503 a second past the deadline when the COMMIT
    // can no longer be sent, else 504 ("may have completed") half a second later.
    private async Task<ChatCreateResult[]> AnsweringLateAsync(List<PendingCreate> statement, CommitGate gate, Deadline deadline, Task<ChatCreateResult[]> writing)
    {
        using var written = new CancellationTokenSource();
        var late = AnswerLateAsync(statement, gate, deadline, written.Token);
        try
        {
            return await writing;
        }
        finally
        {
            await written.CancelAsync();
            await late;
        }
    }

    private async Task AnswerLateAsync(List<PendingCreate> statement, CommitGate gate, Deadline deadline, CancellationToken written)
    {
        try
        {
            await Task.Delay(deadline.Remaining + AnswerGrace, written);
            if (gate.TryGiveUp())
            {
                foreach (var pending in statement)
                {
                    Fail(pending, CreateResult.NotWritten, ChatErrors.Unavailable());
                }

                return;
            }

            await Task.Delay(CommitGrace, written);
            foreach (var pending in statement)
            {
                Fail(pending, CreateResult.Unknown, ChatErrors.MayHaveCompleted());
            }
        }
        catch (OperationCanceledException) when (written.IsCancellationRequested)
        {
            // The statement came back in time: its own outcome answers the callers.
        }
    }

    // A statement must end before the earliest deadline of its creates, or all of them fail. When
    // the database is slow per row (a trigger, a starved disk), a full batch cannot: the writers
    // learn the time a create costs in a statement (a moving average) and take no more than the
    // oldest create's time left allows, so that some creates succeed rather than none.
    private int CreatesThatFit(TimeSpan timeLeft, int maxBatchSize)
    {
        var secondsPerCreate = Volatile.Read(ref _secondsPerCreate);
        return secondsPerCreate <= 0 ? maxBatchSize : (int)Math.Clamp(timeLeft.TotalSeconds / secondsPerCreate, 1, maxBatchSize);
    }

    private void LearnCost(TimeSpan elapsed, int creates)
    {
        var sample = elapsed.TotalSeconds / creates;
        var previous = Volatile.Read(ref _secondsPerCreate);
        Volatile.Write(ref _secondsPerCreate, previous <= 0 ? sample : (0.8 * previous) + (0.2 * sample));
    }

    private void Answer(PendingCreate pending, CreateResult result, ChatCreation? creation)
    {
        if (pending.Completion.TrySetResult(creation))
        {
            metrics.Finished(result);
        }
    }

    private void Fail(PendingCreate pending, CreateResult result, Exception error)
    {
        if (pending.Completion.TrySetException(error))
        {
            metrics.Finished(result);
        }
    }

    // Two creates with one request id cannot share a statement: the first goes in, the others
    // follow in the next one and replay what it created.
    private static (List<PendingCreate> Statement, List<PendingCreate> Later) SplitRepeatedRequestIds(List<PendingCreate> creates)
    {
        var statement = new List<PendingCreate>(creates.Count);
        var later = new List<PendingCreate>();
        HashSet<(int, Guid)>? requestIds = null;
        foreach (var pending in creates)
        {
            var isRepeat = pending.Chat.RequestId is { } requestId && !(requestIds ??= []).Add((pending.Chat.UserId, requestId));
            (isRepeat ? later : statement).Add(pending);
        }

        return (statement, later);
    }
}
