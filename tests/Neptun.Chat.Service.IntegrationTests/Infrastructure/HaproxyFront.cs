using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Neptun.Chat.Service.IntegrationTests.Processes;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's HAProxy as the one address in front of a primary and its standby (TCP, no health
/// checks of its own): its backend is switched through the runtime API, as Patroni's health checks
/// switch it, to the server named. Its socket and configuration in a folder of its own.
/// scripts/test.sh installs haproxy.
/// </summary>
public sealed class HaproxyFront : IAsyncDisposable
{
    private const string Backend = "postgres";
    private readonly Process _process;
    private readonly DirectoryInfo _folder;
    private readonly ConcurrentQueue<string> _output;

    private HaproxyFront(Process process, DirectoryInfo folder, ConcurrentQueue<string> output, int port)
    {
        _process = process;
        _folder = folder;
        _output = output;
        Port = port;
    }

    public int Port { get; }

    private string AdminSocket => Path.Combine(_folder.FullName, "admin.sock");

    /// <summary>HAProxy in front of <paramref name="ports"/> (servers <c>pg0</c>, <c>pg1</c>, ...), sending every connection to the first.</summary>
    public static async Task<HaproxyFront> StartAsync(IReadOnlyList<int> ports)
    {
        var executable = new[] { "/usr/sbin/haproxy", "/usr/bin/haproxy" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("haproxy is not installed: run the tests through scripts/test.sh, which installs Debian's haproxy.");
        var folder = Directory.CreateTempSubdirectory("neptun-haproxy-");
        var port = TestPorts.Next();
        var servers = ports.Select((serverPort, index) => $"    server pg{index} 127.0.0.1:{serverPort}{(index == 0 ? "" : " disabled")}");
        var configuration = $"""
            global
                stats socket {folder.FullName}/admin.sock mode 600 level admin
            defaults
                mode tcp
                # No retry of a refused connection (HAProxy waits 1 s before each): while the
                # primary is down the service answers 503 at once, and its callers retry.
                retries 0
                timeout connect 1s
                timeout client 1h
                timeout server 1h
            frontend postgres_in
                bind 127.0.0.1:{port}
                default_backend {Backend}
            backend {Backend}
            {string.Join('\n', servers)}

            """;
        var configurationPath = Path.Combine(folder.FullName, "haproxy.cfg");
        await File.WriteAllTextAsync(configurationPath, configuration);

        // -db: in the foreground, no daemon.
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, ArgumentList = { "-db", "-f", configurationPath } };
        var process = Process.Start(start) ?? throw new InvalidOperationException("haproxy did not start");
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var front = new HaproxyFront(process, folder, output, port);
        var listening = await Polling.UntilAsync(() => Task.FromResult(File.Exists(front.AdminSocket) && front.Accepts()), TimeSpan.FromSeconds(10));
        if (listening is null)
        {
            var message = $"haproxy did not listen on {port}:{Environment.NewLine}{string.Join(Environment.NewLine, output)}";
            await front.DisposeAsync();
            throw new InvalidOperationException(message);
        }

        return front;
    }

    /// <summary>
    /// New connections go to server <paramref name="index"/> only; the others are put in
    /// maintenance and their sessions cut, as a switch after a promotion does.
    /// </summary>
    public async Task SwitchToAsync(int index, int servers)
    {
        var commands = new List<string> { $"set server {Backend}/pg{index} state ready" };
        foreach (var other in Enumerable.Range(0, servers).Where(other => other != index))
        {
            commands.Add($"set server {Backend}/pg{other} state maint");
            commands.Add($"shutdown sessions server {Backend}/pg{other}");
        }

        var reply = await RuntimeApiAsync(string.Join("; ", commands));
        if (reply.Trim().Length > 0)
        {
            throw new InvalidOperationException($"haproxy's runtime API answered: {reply}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _folder.Delete(recursive: true);
    }

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task<string> RuntimeApiAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(AdminSocket));
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"));
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return reply.ToString();
    }
}
