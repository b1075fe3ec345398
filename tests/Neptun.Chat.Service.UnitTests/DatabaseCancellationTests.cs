using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.UnitTests;

/// <summary>
/// The token the service gives Npgsql: whoever cancels it (a timer, a caller leaving), Npgsql's
/// synchronous cancel runs on a thread of its own, never on the thread pool or the canceller's.
/// </summary>
public sealed class DatabaseCancellationTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Its_time_passing_cancels_it_on_a_thread_that_is_not_the_thread_pool_s()
    {
        using var cancellation = DatabaseCancellation.After(TimeSpan.FromMilliseconds(20));
        var onThreadPool = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = cancellation.Token.Register(() => onThreadPool.SetResult(Thread.CurrentThread.IsThreadPoolThread));

        Assert.False(await onThreadPool.Task.WaitAsync(Patience));
        Assert.True(cancellation.IsCancellationRequested);
    }

    [Fact]
    public async Task The_other_token_cancels_it_without_running_its_callbacks_on_the_canceller_s_thread()
    {
        using var callerGone = new CancellationTokenSource();
        using var cancellation = DatabaseCancellation.After(Timeout.InfiniteTimeSpan, callerGone.Token);
        var callbackThread = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = cancellation.Token.Register(() => callbackThread.SetResult(Environment.CurrentManagedThreadId));

        Assert.False(cancellation.IsCancellationRequested);
        callerGone.Cancel();
        var cancellerThread = Environment.CurrentManagedThreadId;

        Assert.True(cancellation.IsCancellationRequested);
        Assert.NotEqual(cancellerThread, await callbackThread.Task.WaitAsync(Patience));
    }

    [Fact]
    public async Task Cancels_that_block_their_threads_do_not_wait_for_one_another()
    {
        // Npgsql's cancel against a frozen server blocks for seconds; three due at once must all
        // run at once, each on its own thread (one shared thread would never let the barrier pass).
        const int Cancels = 3;
        using var allRunning = new Barrier(Cancels);
        var passed = Enumerable.Range(0, Cancels).Select(_ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var cancellations = Enumerable.Range(0, Cancels).Select(_ => DatabaseCancellation.After(TimeSpan.FromMilliseconds(20))).ToArray();
        var registrations = cancellations.Select((c, i) => c.Token.Register(() => passed[i].SetResult(allRunning.SignalAndWait(Patience)))).ToArray();

        var results = await Task.WhenAll(passed.Select(p => p.Task)).WaitAsync(Patience * 2);

        Assert.All(results, Assert.True);
        Array.ForEach(registrations, r => r.Dispose());
        Array.ForEach(cancellations, c => c.Dispose());
    }

    [Fact]
    public async Task Disposed_before_its_time_it_is_never_cancelled()
    {
        var cancellation = DatabaseCancellation.After(TimeSpan.FromMilliseconds(20));
        var token = cancellation.Token;
        cancellation.Dispose();

        await Task.Delay(TimeSpan.FromMilliseconds(200));

        Assert.False(token.IsCancellationRequested);
        Assert.False(cancellation.IsCancellationRequested);
    }
}
