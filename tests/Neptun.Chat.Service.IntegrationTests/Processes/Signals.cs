using System.Runtime.InteropServices;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>POSIX signals to a process: .NET can send SIGKILL (<see cref="System.Diagnostics.Process.Kill()"/>) but no other.</summary>
public static class Signals
{
    public const int Terminate = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    private const int NoSuchProcess = 3;

    public static void Send(int processId, int signal)
    {
        if (!TrySend(processId, signal))
        {
            throw new InvalidOperationException($"kill({processId}, {signal}): no such process");
        }
    }

    /// <summary>False when the process no longer exists (it ended, or was reaped, meanwhile).</summary>
    public static bool TrySend(int processId, int signal) => Kill(processId, signal) == 0 || Marshal.GetLastPInvokeError() switch
    {
        NoSuchProcess => false,
        var error => throw new InvalidOperationException($"kill({processId}, {signal}) failed: errno {error}"),
    };

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int processId, int signal);
}
