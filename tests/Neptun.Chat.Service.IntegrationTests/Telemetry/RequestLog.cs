namespace Neptun.Chat.Service.IntegrationTests.Telemetry;

/// <summary>The request log lines a service in process has written so far.</summary>
public static class RequestLog
{
    private const string Category = "Neptun.Chat.Service.Telemetry.RequestLogMiddleware";

    public static List<string> Lines(ChatServiceFactory factory) =>
        factory.Logs.Lines.Where(line => line.Contains(Category, StringComparison.Ordinal)).ToList();

    /// <summary>The lines once there are at least <paramref name="count"/>, or all there are after about two seconds.</summary>
    public static async Task<List<string>> WaitForLinesAsync(ChatServiceFactory factory, int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var lines = Lines(factory);
            if (lines.Count >= count)
            {
                return lines;
            }

            await Task.Delay(20);
        }

        return Lines(factory);
    }
}
