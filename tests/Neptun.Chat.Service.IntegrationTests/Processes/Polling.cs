using System.Diagnostics;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

public static class Polling
{
    /// <summary>Asks every 50 ms until <paramref name="condition"/> holds; how long that took, or null after <paramref name="limit"/>.</summary>
    public static async Task<TimeSpan?> UntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var since = Stopwatch.StartNew();
        while (since.Elapsed < limit)
        {
            if (await condition())
            {
                return since.Elapsed;
            }

            await Task.Delay(50);
        }

        return null;
    }
}
