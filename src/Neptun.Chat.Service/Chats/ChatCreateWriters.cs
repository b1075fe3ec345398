using System.Diagnostics;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Idempotency;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Group commit: long-lived writers (<see cref="DatabaseOptions.MaxBatchWriters"/>) each take
/// everything queued, up to <see cref="DatabaseOptions.MaxBatchSize"/>, write it as one statement
/// and one commit, and deliver each create's outcome once (its caller answers from it). A create
/// that finds the first writer free is written at once, alone; batches form while it is busy; the
/// others stand by (<see cref="StandbyAfter"/>). On shutdown what is queued is written first.
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
    /// <summary>
    /// How long past its creates' latest deadline a writer waits for a cancelled statement (or its
    /// COMMIT) to come back before giving it up: a frozen server does not answer Npgsql's cancel.
    /// </summary>
    public static readonly TimeSpan GiveUpGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The writers after the first take creates only once the oldest queued one has waited this
    /// long (the first is held up: a lock, a slow database). Until then one writer makes the largest
    /// batches, so the fewest statements and commits per create (docs/performance.md has the A/B).
    /// </summary>
    internal static readonly TimeSpan StandbyAfter = TimeSpan.FromMilliseconds(50);

    private readonly CreateCost _cost = new();
    private readonly TimeSpan _retention = idempotency.Value.Retention;

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

            // No more creates than the earliest deadline among them lets one statement write.
            batch.Clear();
            var limit = maxBatchSize;
            while (batch.Count < limit && queue.Reader.TryRead(out var pending))
            {
                metrics.LeftQueue(Stopwatch.GetElapsedTime(pending.EnqueuedTimestamp));
                if (pending.TryTake())
                {
                    batch.Add(pending);
                    limit = Math.Min(limit, _cost.CreatesThatFit(pending.Deadline.Remaining, maxBatchSize));
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

        // Whole milliseconds, rounded up: Task.Delay rounds a fraction of one down to no wait at all.
        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling((StandbyAfter - waited).TotalMilliseconds)), CancellationToken.None);
        return false;
    }

    /// <summary>Writes one batch and delivers each of its creates' outcomes; never throws.</summary>
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
            // A bug of the service's own: a statement may have committed; say so to those not answered.
            Log.UnexpectedFailure(logger, "the create writer", exception);
            foreach (var pending in batch)
            {
                pending.Deliver(CreateAnswer.MayHaveCompleted);
            }
        }
        finally
        {
            Activity.Current = null;
        }
    }

    /// <summary>
    /// Runs one statement for <paramref name="statement"/> until the latest of their deadlines
    /// (no create in it can use it after that) and delivers each create's outcome; returns those
    /// that must run again to read another's record.
    /// </summary>
    private async Task<List<PendingCreate>> WriteStatementAsync(List<PendingCreate> statement)
    {
        var deadline = statement.Select(pending => pending.Deadline).Aggregate(Deadline.Latest);
        var runAgain = new List<PendingCreate>();
        if (deadline.HasPassed)
        {
            // Re-runs after a raced statement: their time is up, and nothing of theirs was written.
            DeliverAll(statement, CreateAnswer.NotWritten(ChatErrors.Unavailable()));
            return runAgain;
        }

        var gate = new CommitGate();
        statement.ForEach(pending => pending.Statement = gate);
        var started = Stopwatch.GetTimestamp();
        using var timeout = DatabaseCancellation.After(deadline.Remaining);
        var writing = repository.CreateProjectChatsAsync(statement.ConvertAll(p => p.Chat), _retention, gate, timeout.Token);
        StatementResult[] results;
        try
        {
            results = await WithinGraceAsync(writing, timeout.Token);
        }
        catch (TimeoutException) when (!writing.IsCompleted)
        {
            // The database does not give the statement back (frozen). Nothing is stored if its
            // COMMIT was never sent; otherwise nobody can say. The writer goes on waiting for it,
            // holding its one connection, while the other writers take what is queued.
            DeliverAll(statement, gate.TryGiveUp() ? CreateAnswer.NotWritten(ChatErrors.Unavailable()) : CreateAnswer.MayHaveCompleted);
            await writing.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            return runAgain;
        }
        catch (Exception exception)
        {
            // The repository throws only before the COMMIT; the gate makes sure of it.
            DeliverAll(statement, gate.TryGiveUp()
                ? CreateAnswer.NotWritten(failures.ToRpcException(exception, timedOut: timeout.IsCancellationRequested))
                : CreateAnswer.MayHaveCompleted);
            _cost.Learn(Stopwatch.GetElapsedTime(started), statement.Count, endedOnItsOwn: !timeout.IsCancellationRequested);
            return runAgain;
        }

        _cost.Learn(Stopwatch.GetElapsedTime(started), statement.Count, endedOnItsOwn: !timeout.IsCancellationRequested);

        for (var i = 0; i < statement.Count; i++)
        {
            var result = results[i];
            if (result.Outcome == StatementOutcome.RunAgain)
            {
                runAgain.Add(statement[i]);
                continue;
            }

            statement[i].Deliver(result.Outcome switch
            {
                StatementOutcome.Created => new CreateAnswer(CreateResultLabel.Written, result.Creation, null),
                StatementOutcome.Replayed => new CreateAnswer(CreateResultLabel.Replayed, result.Creation, null),
                StatementOutcome.NotFound => new CreateAnswer(CreateResultLabel.NotFound, null, null),
                StatementOutcome.UnknownModel => CreateAnswer.NotWritten(ChatErrors.InvalidBody([CreateProjectChatValidator.UnknownModel()])),
                StatementOutcome.RolledBack => CreateAnswer.NotWritten(ChatErrors.Unavailable()),
                _ => CreateAnswer.MayHaveCompleted,
            });
        }

        return runAgain;
    }

    // The statement until its deadline, then the grace: Npgsql cancels it at the deadline, but
    // waits for a server that does not answer the cancel (frozen) before its own timeout starts.
    private static async Task<StatementResult[]> WithinGraceAsync(Task<StatementResult[]> writing, CancellationToken timeout)
    {
        try
        {
            return await writing.WaitAsync(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !writing.IsCompleted)
        {
            return await writing.WaitAsync(GiveUpGrace);
        }
    }

    private static void DeliverAll(List<PendingCreate> statement, CreateAnswer answer) => statement.ForEach(pending => pending.Deliver(answer));

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

/// <summary>What a create costs in a statement, as the writers have seen it: a moving average.</summary>
internal sealed class CreateCost
{
    private double _secondsPerCreate;

    // A statement must end before the earliest deadline of its creates, or some of them fail. When
    // the database is slow per row (a trigger, a starved disk), a full batch cannot: the writers
    // learn the time a create costs in a statement (a moving average) and take no more than the
    // earliest deadline's time left allows, so that some creates succeed rather than none.
    public int CreatesThatFit(TimeSpan timeLeft, int maxBatchSize)
    {
        var secondsPerCreate = Volatile.Read(ref _secondsPerCreate);
        return secondsPerCreate <= 0 ? maxBatchSize : (int)Math.Clamp(timeLeft.TotalSeconds / secondsPerCreate, 1, maxBatchSize);
    }

    // A statement cut off at its deadline only says a create costs at least that much: it may raise
    // the estimate (a database slow per row, whose first full batch never ends in time), never lower it.
    public void Learn(TimeSpan elapsed, int creates, bool endedOnItsOwn)
    {
        var sample = elapsed.TotalSeconds / creates;
        var previous = Volatile.Read(ref _secondsPerCreate);
        if (endedOnItsOwn || sample > previous)
        {
            Volatile.Write(ref _secondsPerCreate, previous <= 0 ? sample : (0.8 * previous) + (0.2 * sample));
        }
    }
}
