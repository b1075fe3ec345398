using System.Diagnostics;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>Runs a command to its end and fails with its output when it exits non-zero.</summary>
public static class ExternalCommand
{
    public static bool IsRoot => Environment.UserName == "root";

    public static Task RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return RunAsync(start, timeout);
    }

    /// <summary>The same for a prepared start (its environment, its folder); output must be redirected.</summary>
    public static async Task RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        var command = $"{start.FileName} {string.Join(' ', start.ArgumentList)}";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {timeout}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} exited with {process.ExitCode}: {await output}{await errors}");
        }
    }
}
