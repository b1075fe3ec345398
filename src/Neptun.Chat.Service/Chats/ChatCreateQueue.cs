using System.Diagnostics;
using System.Threading.Channels;
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
    /// the deadline passed before a writer took the create, or its statement was given up before
    /// its COMMIT or rolled back), DEADLINE_EXCEEDED when the outcome cannot be known (its statement
    /// still runs, or its COMMIT's answer was lost). <paramref name="callerGone"/> ends the wait too.
    /// </summary>
    public async Task<ChatCreation?> CreateAsync(NewProjectChat chat, Deadline deadline, CancellationToken callerGone)
    {
        var pending = new PendingCreate(chat, deadline, Activity.Current);
        if (!_channel.Writer.TryWrite(pending))
        {
            _metrics.Finished(CreateResult.Refused);
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
            _metrics.Finished(pending.TryDrop() ? CreateResult.Expired : CreateResult.Unknown);
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
            _metrics.Finished(CreateResult.Unknown);
            throw;
        }
    }

    /// <summary>Accepts no more creates; the writers finish those already queued.</summary>
    internal void Complete() => _channel.Writer.TryComplete();
}
