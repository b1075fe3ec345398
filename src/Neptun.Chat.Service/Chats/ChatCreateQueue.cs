using System.Diagnostics;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Idempotency;
using Npgsql;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Group commit: concurrent creates wait in one queue, and each of a few writers takes everything
/// queued (up to <see cref="DatabaseOptions.MaxBatchSize"/>) and writes it as one statement. There
/// is no timer: a create that finds a writer free is written at once, alone; batches form only
/// while every writer is busy, that is, under load. With a batch size of 1 each create is written
/// on its own, as before.
/// </summary>
public sealed class ChatCreateQueue(
    ChatRepository single,
    ChatBatchRepository batches,
    ChatCreateMetrics metrics,
    IOptions<DatabaseOptions> database,
    IOptions<IdempotencyOptions> idempotency,
    ILogger<ChatCreateQueue> logger)
{
    private readonly Lock _gate = new();
    private readonly Queue<PendingCreate> _queue = new();
    private int _writers;

    /// <summary>Creates waiting for a writer.</summary>
    internal int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// The chat created or replayed, or null when the project is not the user's. A caller that
    /// cancels once its create is in a batch gets its cancellation, but the chat may still be
    /// written; a retry with the same request id then returns it.
    /// </summary>
    public Task<ChatCreation?> CreateAsync(NewProjectChat chat, CancellationToken cancellationToken)
    {
        var options = database.Value;
        if (options.MaxBatchSize <= 1)
        {
            return single.CreateProjectChatAsync(chat, idempotency.Value.Retention, cancellationToken);
        }

        var pending = new PendingCreate(chat, Activity.Current, cancellationToken);
        bool startWriter;
        lock (_gate)
        {
            _queue.Enqueue(pending);
            startWriter = _writers < options.MaxBatchWriters;
            if (startWriter)
            {
                _writers++;
            }
        }

        if (startWriter)
        {
            // Started on this thread, so that a lone create costs no hand-off before its statement
            // is sent. The writer outlives this request: it must not carry the request's trace or
            // log scope into the batches it writes for others.
            using (ExecutionContext.SuppressFlow())
            {
                _ = WriteUntilEmptyAsync();
            }
        }

        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteUntilEmptyAsync()
    {
        var maxBatchSize = database.Value.MaxBatchSize;
        var batch = new List<PendingCreate>(maxBatchSize);
        while (true)
        {
            batch.Clear();
            lock (_gate)
            {
                while (batch.Count < maxBatchSize && _queue.TryDequeue(out var pending))
                {
                    if (pending.CallerCancellation.IsCancellationRequested)
                    {
                        pending.Completion.TrySetCanceled(pending.CallerCancellation);
                    }
                    else
                    {
                        batch.Add(pending);
                    }
                }

                if (batch.Count == 0)
                {
                    _writers--;
                    return;
                }
            }

            await WriteAsync(batch);
        }
    }

    /// <summary>Writes one batch and completes each of its creates; never throws.</summary>
    private async Task WriteAsync(List<PendingCreate> batch)
    {
        metrics.BatchWritten(batch.Count);

        // The batch's database span goes into the trace of its oldest create.
        Activity.Current = batch[0].Activity;
        try
        {
            // Two creates with one request id cannot share a statement: the first goes into the
            // batch, and the others run alone after it, so that they replay what it created.
            var inBatch = new List<PendingCreate>(batch.Count);
            var alone = new List<PendingCreate>();
            HashSet<(int, Guid)>? requestIds = null;
            foreach (var pending in batch)
            {
                var isRepeat = pending.Chat.RequestId is { } requestId && !(requestIds ??= []).Add((pending.Chat.UserId, requestId));
                (isRepeat ? alone : inBatch).Add(pending);
            }

            BatchedCreation[] outcomes;
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(database.Value.RequestTimeoutSeconds)))
            {
                try
                {
                    outcomes = await batches.CreateProjectChatsAsync(inBatch.ConvertAll(p => p.Chat), idempotency.Value.Retention, timeout.Token);
                }
                catch (PostgresException exception) when (inBatch.Count > 1 && DatabaseFailures.MayBeOneCreates(exception))
                {
                    // One create's row failed the statement for all (a project deleted meanwhile, a
                    // model the enum lost): each runs alone and gets its own outcome.
                    Log.BatchRunAlone(logger, inBatch.Count, exception.SqlState);
                    await RunAloneAsync(batch);
                    return;
                }
            }

            for (var i = 0; i < inBatch.Count; i++)
            {
                var outcome = outcomes[i];
                if (outcome.Outcome == BatchOutcome.RunAlone)
                {
                    alone.Add(inBatch[i]);
                }
                else
                {
                    inBatch[i].Completion.TrySetResult(outcome.Creation);
                }
            }

            await RunAloneAsync(alone);
        }
        catch (Exception exception)
        {
            // The database failed the batch (a lost connection, a timeout): each of its callers
            // learns it, and no other batch is touched.
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(exception);
            }
        }
        finally
        {
            Activity.Current = null;
        }
    }

    private async Task RunAloneAsync(List<PendingCreate> creates)
    {
        foreach (var pending in creates)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(database.Value.RequestTimeoutSeconds));
            try
            {
                pending.Completion.TrySetResult(await single.CreateProjectChatAsync(pending.Chat, idempotency.Value.Retention, timeout.Token));
            }
            catch (Exception exception)
            {
                pending.Completion.TrySetException(exception);
            }
        }
    }

    private sealed class PendingCreate(NewProjectChat chat, Activity? activity, CancellationToken callerCancellation)
    {
        public NewProjectChat Chat { get; } = chat;

        public Activity? Activity { get; } = activity;

        public CancellationToken CallerCancellation { get; } = callerCancellation;

        // Callers continue on the thread pool, not on the writer, which goes on to the next batch.
        public TaskCompletionSource<ChatCreation?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
