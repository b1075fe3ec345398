using System.Text;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Gives standard output a buffer that holds a whole log line. .NET's own Console.Out flushes
/// every 256 characters on Linux, so each JSON request line (about 1.1 KB with its scopes) cost
/// four or five write(2) calls; bench/run.sh --profile counted them, and on a virtual machine
/// where every system call is dear that was a tenth of the service's CPU. With this writer a
/// line is still written, and flushed, the moment the logger emits it: one call per line.
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
