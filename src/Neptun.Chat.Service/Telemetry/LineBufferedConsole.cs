using System.Text;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Gives standard output a buffer that holds a whole log line, so that a line is one write(2)
/// call: .NET's own Console.Out flushes every 256 characters on Linux, which splits a JSON request
/// line (about 1.1 KB with its scopes) into several, and system calls are dear on a virtual
/// machine (docs/performance.md has the figures). A line is still written, and flushed, the
/// moment the logger emits it.
/// </summary>
public static class LineBufferedConsole
{
    private const int BufferChars = 16 * 1024;

    /// <summary>
    /// Must run before the console logger is built: it takes Console.Out when created. Windows
    /// keeps its own console writer, which speaks the console's code page.
    /// </summary>
    public static void Install()
    {
        if (!OperatingSystem.IsWindows())
        {
            var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), BufferChars)
            {
                AutoFlush = true,
            };
            Console.SetOut(output);
        }
    }
}
