namespace Neptun.Chat.Service.Database;

/// <summary>
/// A token to give Npgsql, cancelled on a thread of its own once a time has passed or another
/// token (a caller leaving, the host stopping) is cancelled.
/// </summary>
/// <remarks>
/// Npgsql cancels a running command synchronously, on the thread that cancels its token: it opens a
/// second connection, sends PostgreSQL's cancel request and waits for the server to close it, for
/// up to the connect <c>Timeout</c> (5 s) when the server is frozen or gone (npgsql issues 3277 and
/// 3696). Cancelled by a timer, that thread would be one of the thread pool's; by a caller leaving,
/// Kestrel's. Each frozen statement would hold one for seconds, and the callers whose own deadline
/// timers need those threads would be answered late. A thread started only when a cancel is due
/// costs a fraction of a millisecond, and only then.
/// </remarks>
public sealed class DatabaseCancellation : IDisposable
{
    // Never disposed: a source without a timer or a wait handle holds nothing to release, and one
    // disposed while its cancel thread runs would fail that thread.
    private readonly CancellationTokenSource _source = new();
    private readonly ITimer? _timer;
    private readonly CancellationTokenRegistration _alsoWhen;
    private int _cancelStarted;

    private DatabaseCancellation(TimeSpan after, CancellationToken alsoWhen)
    {
        if (after != Timeout.InfiniteTimeSpan)
        {
            _timer = TimeProvider.System.CreateTimer(static state => ((DatabaseCancellation)state!).CancelOnOwnThread(), this, after, Timeout.InfiniteTimeSpan);
        }

        _alsoWhen = alsoWhen.UnsafeRegister(static state => ((DatabaseCancellation)state!).CancelOnOwnThread(), this);
    }

    /// <summary>Cancelled <paramref name="after"/> or when <paramref name="alsoWhen"/> is.</summary>
    public static DatabaseCancellation After(TimeSpan after, CancellationToken alsoWhen = default) => new(after, alsoWhen);

    /// <summary>Cancelled when <paramref name="token"/> is, never by time.</summary>
    public static DatabaseCancellation When(CancellationToken token) => new(Timeout.InfiniteTimeSpan, token);

    public CancellationToken Token => _source.Token;

    /// <summary>True from the moment the time passed or the other token was cancelled, before the cancel reaches Npgsql.</summary>
    public bool IsCancellationRequested => Volatile.Read(ref _cancelStarted) != 0;

    public void Dispose()
    {
        _timer?.Dispose();
        _alsoWhen.Dispose();
    }

    private void CancelOnOwnThread()
    {
        if (Interlocked.Exchange(ref _cancelStarted, 1) != 0)
        {
            return;
        }

        new Thread(static state => ((DatabaseCancellation)state!).Cancel())
        {
            IsBackground = true,
            Name = "Npgsql cancel",
        }.UnsafeStart(this);
    }

    private void Cancel()
    {
        try
        {
            _source.Cancel();
        }
        catch (AggregateException)
        {
            // A callback failed; the token is cancelled all the same, which is all its waiters read.
        }
    }
}
