using System.Diagnostics;
using Grpc.Core;
using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// A create between its caller and a writer. It is either dropped while queued (its deadline
/// passed or its caller went away: nothing is sent) or taken by a writer (which then delivers its
/// statement's outcome); never both, whichever comes first.
/// </summary>
internal sealed class PendingCreate(NewProjectChat chat, Deadline deadline, Activity? activity)
{
    private const int Queued = 0;
    private const int Taken = 1;
    private const int Dropped = 2;

    private int _state;
    private CommitGate? _statement;

    public NewProjectChat Chat { get; } = chat;

    public Deadline Deadline { get; } = deadline;

    /// <summary>The caller's trace, which the writer's database span joins.</summary>
    public Activity? Activity { get; } = activity;

    public long EnqueuedTimestamp { get; } = Stopwatch.GetTimestamp();

    /// <summary>The gate of the statement that carries it now, once taken.</summary>
    public CommitGate? Statement
    {
        get => Volatile.Read(ref _statement);
        set => Volatile.Write(ref _statement, value);
    }

    // Callers continue on the thread pool, not on the writer, which goes on to the next batch.
    public TaskCompletionSource<CreateAnswer> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True when the writer may send it: still queued, and its deadline has not passed.</summary>
    public bool TryTake() => !Deadline.HasPassed && Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

    /// <summary>True when it was still queued: it will never be sent.</summary>
    public bool TryDrop() => Interlocked.CompareExchange(ref _state, Dropped, Queued) == Queued;

    /// <summary>Hands the caller its outcome; the first one delivered counts.</summary>
    public void Deliver(CreateAnswer answer) => Answer.TrySetResult(answer);
}

/// <summary>What a caller answers: the chat (null: not the user's project) or the error, and how the metric counts it.</summary>
internal readonly record struct CreateAnswer(CreateResult Result, ChatCreation? Creation, RpcException? Error)
{
    public static CreateAnswer Expired => new(CreateResult.Expired, null, ChatErrors.Unavailable());

    public static CreateAnswer MayHaveCompleted => new(CreateResult.Unknown, null, ChatErrors.MayHaveCompleted());

    public static CreateAnswer NotWritten(RpcException error) => new(CreateResult.NotWritten, null, error);
}
