using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// Where creates wait for a writer (<see cref="ChatCreateWriters"/>): a bounded queue, so that under
/// overload a caller is told at once that nothing was written, rather than everyone waiting out the
/// timeout while memory grows with the arrival rate. Each caller answers its own create, once, from
/// what it sees when its statement's outcome arrives or its deadline passes: the one clock of a create.
/// </summary>
public sealed class ChatCreateQueue
{
    /// <summary>
    /// How long past its deadline a caller whose create a statement carries waits for the outcome:
    /// longer than <see cref="ChatCreateWriters.GiveUpGrace"/>, so that a writer's give-up answers first.
    /// </summary>
    public static readonly TimeSpan AnswerGrace = TimeSpan.FromSeconds(1.5);

    private readonly Channel<PendingCreate> _channel;
    private readonly ChatCreateMetrics _metrics;

    public ChatCreateQueue(IOptions<DatabaseOptions> options, ChatCreateMetrics metrics)
    {
        _metrics = metrics;
        _channel = Channel.CreateBounded<PendingCreate>(new BoundedChannelOptions(options.Value.MaxQueuedCreates)
        {
            // FullMode stays Wait, the default: TryWrite then refuses a create when the queue is full,
            // where the Drop modes would accept it and drop a queued one.
            // A free writer takes a lone create on the caller's thread, with no hand-off before its
            // statement is sent; under load the writers are busy and nothing runs inline.
            AllowSynchronousContinuations = true,
        });
        metrics.ObserveQueueDepth(() => _channel.Reader.Count);
    }

    internal ChannelReader<PendingCreate> Reader => _channel.Reader;

    /// <summary>
    /// The chat created or replayed, or null when the project is not the user's. Throws one of the
    /// error table's rows otherwise: UNAVAILABLE only when nothing was written (the queue was full,
    /// the deadline passed before a writer took the create, or its statement was given up before
    /// its COMMIT or rolled back), DEADLINE_EXCEEDED when the outcome cannot be known (its statement
    /// still runs, or its COMMIT's answer was lost). <paramref name="callerGone"/> ends the wait too.
    /// </summary>
    public async Task<ReturnedChat?> CreateAsync(NewProjectChat chat, Deadline deadline, CancellationToken callerGone)
    {
        var pending = new PendingCreate(chat, deadline, Activity.Current);
        if (!_channel.Writer.TryWrite(pending))
        {
            _metrics.Finished(CreateResultLabel.Refused);
            throw ChatErrors.Overloaded();
        }

        CreateAnswer answer;
        try
        {
            answer = await pending.Answer.Task.WaitAsync(deadline.Remaining, callerGone);
        }
        catch (TimeoutException)
        {
            answer = pending.TryDrop() ? CreateAnswer.Expired : await OutcomeAfterDeadlineAsync(pending, callerGone);
        }
        catch (OperationCanceledException) when (callerGone.IsCancellationRequested)
        {
            // Nobody is listening any more; if no writer took it yet, none will send it.
            _metrics.Finished(pending.TryDrop() ? CreateResultLabel.Expired : CreateResultLabel.Unknown);
            throw;
        }

        _metrics.Finished(answer.Result);
        return answer.Error is { } error ? throw error : answer.Creation;
    }

    // A statement carries the create: its writer answers once it ends or is given up (at the
    // latest deadline among its creates); a caller whose deadline is earlier may not wait for that.
    private async Task<CreateAnswer> OutcomeAfterDeadlineAsync(PendingCreate pending, CancellationToken callerGone)
    {
        try
        {
            return await pending.Answer.Task.WaitAsync(AnswerGrace, callerGone);
        }
        catch (TimeoutException)
        {
            return pending.Statement?.HasGivenUp == true ? CreateAnswer.NotWritten(ChatErrors.Unavailable()) : CreateAnswer.MayHaveCompleted;
        }
        catch (OperationCanceledException) when (callerGone.IsCancellationRequested)
        {
            _metrics.Finished(CreateResultLabel.Unknown);
            throw;
        }
    }

    /// <summary>Accepts no more creates; the writers finish those already queued.</summary>
    internal void Complete() => _channel.Writer.TryComplete();
}

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
internal readonly record struct CreateAnswer(CreateResultLabel Result, ReturnedChat? Creation, RpcException? Error)
{
    public static CreateAnswer Expired => new(CreateResultLabel.Expired, null, ChatErrors.Unavailable());

    public static CreateAnswer MayHaveCompleted => new(CreateResultLabel.Unknown, null, ChatErrors.MayHaveCompleted());

    public static CreateAnswer NotWritten(RpcException error) => new(CreateResultLabel.NotWritten, null, error);
}

/// <summary>The moment, on the monotonic clock, by which a create must be answered.</summary>
public readonly record struct Deadline(long Timestamp)
{
    /// <summary>
    /// The smaller of the server's create timeout and the call's own deadline (gRPC's
    /// <c>grpc-timeout</c>; <see cref="DateTime.MaxValue"/> when the call set none), from
    /// <paramref name="now"/>, the create's arrival (a <see cref="Stopwatch"/> timestamp).
    /// </summary>
    public static Deadline ForCall(long now, TimeSpan createTimeout, DateTime callDeadlineUtc)
    {
        var budget = createTimeout;
        if (callDeadlineUtc != DateTime.MaxValue && callDeadlineUtc - DateTime.UtcNow is var callBudget && callBudget < budget)
        {
            budget = callBudget;
        }

        return new Deadline(now + (long)(Math.Max(0, budget.TotalSeconds) * Stopwatch.Frequency));
    }

    /// <summary>The time left; zero once it has passed.</summary>
    public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Timestamp) is { Ticks: > 0 } left ? left : TimeSpan.Zero;

    public bool HasPassed => Stopwatch.GetTimestamp() >= Timestamp;

    public static Deadline Latest(Deadline first, Deadline second) => first.Timestamp >= second.Timestamp ? first : second;
}

/// <summary>How a create that reached the queue ended, as the outcome metric counts it.</summary>
public enum CreateResultLabel
{
    /// <summary>Stored: the chat, its link and its request id record committed.</summary>
    Written,

    /// <summary>An earlier request with the same id had stored it.</summary>
    Replayed,

    /// <summary>The project is not the user's; nothing written.</summary>
    NotFound,

    /// <summary>Failed with nothing written: the statement failed or rolled back, or its time ran out before it was sent.</summary>
    NotWritten,

    /// <summary>Its deadline passed, or its caller left, while it was queued: never sent.</summary>
    Expired,

    /// <summary>The queue was full (or closing): refused at once, never queued.</summary>
    Refused,

    /// <summary>
    /// It may be stored: its COMMIT's answer was lost and the database could not say, or its caller
    /// stopped waiting while its statement ran.
    /// </summary>
    Unknown,
}

/// <summary>What the create queue and group commit do under a load.</summary>
public sealed class ChatCreateMetrics
{
    private static readonly string[] ResultNames = ["written", "replayed", "not_found", "not_written", "expired", "refused", "unknown"];

    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _queueWait;

    // By CreateResultLabel. Read at each collection, so that every result is exported from the start,
    // at 0 until it happens: a series that first appears at 1 has no earlier sample, and
    // Prometheus' rate() and increase() would miss a process's first "unknown".
    private readonly long[] _results = new long[ResultNames.Length];

    public ChatCreateMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(ServiceIdentity.MeterName);
        _batchSize = Meter.CreateHistogram<int>(
            "neptun.chat.create.batch.size",
            unit: "{create}",
            description: "Creates written by one statement and one commit.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _queueWait = Meter.CreateHistogram<double>(
            "neptun.chat.create.queue.wait",
            unit: "s",
            description: "Time a create waited in the queue before a writer took it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        Meter.CreateObservableCounter(
            "neptun.chat.create.results",
            () => ResultNames.Select((name, result) => new Measurement<long>(Volatile.Read(ref _results[result]), new KeyValuePair<string, object?>("result", name))),
            unit: "{create}",
            description: "Creates that reached the queue, by how they ended (result: written, replayed, not_found, not_written, expired, refused, unknown).");
    }

    /// <summary>The meter, so that a listener can tell this service's measurements from another instance's in one process.</summary>
    public Meter Meter { get; }

    public void ObserveQueueDepth(Func<int> depth) =>
        Meter.CreateObservableGauge("neptun.chat.create.queue.depth", depth, unit: "{create}", description: "Creates waiting for a writer.");

    public void BatchWritten(int size) => _batchSize.Record(size);

    public void LeftQueue(TimeSpan waited) => _queueWait.Record(waited.TotalSeconds);

    public void Finished(CreateResultLabel result) => Interlocked.Increment(ref _results[(int)result]);
}
