using Xunit.Abstractions;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// The one line of figures a reliability test prints: to the test's output and, when
/// NEPTUN_FIGURES_FILE names a file (scripts/test.sh sets it), to that file, which the script prints
/// after the run, since dotnet test shows no output of passing tests.
/// </summary>
public static class Figures
{
    private static readonly Lock FileLock = new();

    public static void Report(ITestOutputHelper output, string line)
    {
        var text = "FIGURES " + line;
        output.WriteLine(text);
        var file = Environment.GetEnvironmentVariable("NEPTUN_FIGURES_FILE");
        if (!string.IsNullOrEmpty(file))
        {
            lock (FileLock)
            {
                File.AppendAllText(file, text + Environment.NewLine);
            }
        }
    }
}
