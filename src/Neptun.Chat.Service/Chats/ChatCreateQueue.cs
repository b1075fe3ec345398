using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Where creates wait for a writer (<see cref="ChatCreateWriters"/>): a bounded queue, so that under
/// overload a caller is told at once that nothing was written, rather than everyone waiting out the
/// timeout while memory grows with the arrival rate.
/// </summary>
public sealed class ChatCreateQueue
{
    private readonly Channel<PendingCreate> _channel;
    private readonly ChatCreateMetrics _metrics;

    public ChatCreateQueue(IOptions<DatabaseOptions> options, ChatCreateMetrics metrics)
    {
        _metrics = metrics;
        _channel = Channel.CreateBounded<PendingCreate>(new BoundedChannelOptions(options.Value.MaxQueuedCreates)
        {
            FullMode = BoundedChannelFullMode.Wait,
            // A free writer takes a lone create on the caller's thread, with no hand-off before
            // its statement is sent; under load the writers are busy and nothing runs inline.
            AllowSynchronousContinuations = true,
        });
        metrics.ObserveQueueDepth(() => _channel.Reader.Count);
    }

    /// <summary>Creates waiting for a writer.</summary>
    internal int Queued => _channel.Reader.Count;

    internal ChannelReader<PendingCreate> Reader => _channel.Reader;

    /// <summary>
    /// The chat created or replayed, or null when the project is not the user's. Throws one of the
    /// error table's rows otherwise: UNAVAILABLE only when nothing was written (the queue was full,
    /// the deadline passed before a writer took the create, or the statement rolled back),
    /// DEADLINE_EXCEEDED when the outcome could not be known. A create that a statement carries is
    /// answered with that statement's outcome, or, when the database does not give the statement
    /// back, by its writer a second past the deadline; <paramref name="callerGone"/> ends the wait too.
    /// </summary>
    public async Task<ChatCreation?> CreateAsync(NewProjectChat chat, Deadline deadline, CancellationToken callerGone)
    {
        var pending = new PendingCreate(chat, deadline, Activity.Current);
        if (!_channel.Writer.TryWrite(pending))
        {
            _metrics.Finished(CreateResult.Refused);
            throw ChatErrors.Overloaded();
        }

        using var expiry = new CancellationTokenSource(deadline.Remaining);
        using var dropOnExpiry = expiry.Token.Register(() => DropExpired(pending));
        try
        {
            return await pending.Completion.Task.WaitAsync(callerGone);
        }
        catch (OperationCanceledException) when (callerGone.IsCancellationRequested)
        {
            // Nobody is listening any more; if no writer took it yet, none will send it.
            pending.TryDrop();
            throw;
        }
    }

    private void DropExpired(PendingCreate create)
    {
        if (create.TryDrop())
        {
            _metrics.Finished(CreateResult.Expired);
            create.Completion.TrySetException(ChatErrors.Unavailable());
        }
    }

    /// <summary>Accepts no more creates; the writers finish those already queued.</summary>
    internal void Complete() => _channel.Writer.TryComplete();
}

/// <summary>
/// A create between its caller and a writer. It is either dropped while queued (its deadline
/// passed or its caller went away: nothing is sent) or taken by a writer (its caller then waits for
/// the statement's outcome); never both, whichever comes first.
/// </summary>
internal sealed class PendingCreate(NewProjectChat chat, Deadline deadline, Activity? activity)
{
    private const int Queued = 0;
    private const int Taken = 1;
    private const int Dropped = 2;

    private int _state;

    public NewProjectChat Chat { get; } = chat;

    public Deadline Deadline { get; } = deadline;

    /// <summary>The caller's trace, which the writer's database span joins.</summary>
    public Activity? Activity { get; } = activity;

    public long EnqueuedTimestamp { get; } = Stopwatch.GetTimestamp();

    // Callers continue on the thread pool, not on the writer, which goes on to the next batch.
    public TaskCompletionSource<ChatCreation?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True when the writer may send it: still queued, and its deadline has not passed.</summary>
    public bool TryTake() => !Deadline.HasPassed && Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    /// <summary>True when it was still queued: it will never be sent.</summary>
    public bool TryDrop() => Interlocked.CompareExchange(ref _state, Dropped, Queued) == Queued;
}
