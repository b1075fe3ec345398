namespace Neptun.Chat.Service.Chats;

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
