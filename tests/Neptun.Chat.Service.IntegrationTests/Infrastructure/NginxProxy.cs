using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Neptun.Chat.Service.IntegrationTests.Processes;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's nginx running a copy of deploy/nginx/neptun-chat.conf in front of two replicas: the
/// replicas' names and the listeners' ports replaced by loopback ports, its logs, pid and temporary
/// files in a folder of its own (so it needs no root). scripts/test.sh installs nginx.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _folder;

    private NginxProxy(Process process, DirectoryInfo folder, int restPort, int grpcPort)
    {
        _process = process;
        _folder = folder;
        RestAddress = new Uri($"http://127.0.0.1:{restPort}");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
    }

    public Uri RestAddress { get; }
    public Uri GrpcAddress { get; }

    /// <summary>
    /// A handler whose connections to nginx come from <paramref name="source"/>, one of loopback's
    /// addresses (all of 127.0.0.0/8 is local on Linux): so one test can be several clients, each
    /// with its own limit_req state, as nginx keys it by the client's address.
    /// </summary>
    public static SocketsHttpHandler HandlerFrom(IPAddress source) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>nginx's error log, for a failure message.</summary>
    public string ErrorLog => File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : "";

    private string ErrorLogPath => Path.Combine(_folder.FullName, "error.log");

    /// <param name="replicas">The replicas, in the order of the configuration's neptun-chat-1, neptun-chat-2.</param>
    public static Task<NginxProxy> StartAsync(IReadOnlyList<ServiceProcess> replicas) =>
        StartAsync(replicas.Select(replica => (replica.RestAddress.Port, replica.GrpcAddress.Port)).ToList());

    /// <param name="upstreams">Each replica's REST and gRPC ports (or a stand-in's), in the order of neptun-chat-1, neptun-chat-2.</param>
    public static async Task<NginxProxy> StartAsync(IReadOnlyList<(int RestPort, int GrpcPort)> upstreams)
    {
        var executable = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: run the tests through scripts/test.sh, which installs Debian's nginx.");
        var folder = Directory.CreateTempSubdirectory("neptun-nginx-");
        // Root's nginx runs its workers as nobody: they must reach the temporary folders in here.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var restPort = TestPorts.Next();
        var grpcPort = TestPorts.Next();

        var configuration = File.ReadAllText(RepositoryFiles.Find("deploy/nginx/neptun-chat.conf"));
        var replacements = new List<(string From, string To)>
        {
            ("listen 8080;", $"listen 127.0.0.1:{restPort};"),
            ("listen 8081 http2;", $"listen 127.0.0.1:{grpcPort} http2;"),
            ("error_log stderr warn;", $"error_log {folder.FullName}/error.log warn;"),
            // The compiled-in temporary folders are under /var/lib/nginx, which only root may create.
            ("http {", "http {\n" + string.Join('\n', new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }
                .Select(kind => $"    {kind}_temp_path {folder.FullName}/{kind}_temp;"))),
        };
        for (var i = 0; i < upstreams.Count; i++)
        {
            replacements.Add(($"neptun-chat-{i + 1}:8080", $"127.0.0.1:{upstreams[i].RestPort}"));
            replacements.Add(($"neptun-chat-{i + 1}:8081", $"127.0.0.1:{upstreams[i].GrpcPort}"));
        }

        foreach (var (from, to) in replacements)
        {
            // A configuration that no longer has what the test replaces would run untested.
            if (!configuration.Contains(from, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"deploy/nginx/neptun-chat.conf no longer contains \"{from}\", which the test replaces.");
            }

            configuration = configuration.Replace(from, to, StringComparison.Ordinal);
        }

        var configurationPath = Path.Combine(folder.FullName, "nginx.conf");
        await File.WriteAllTextAsync(configurationPath, configuration);

        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", configurationPath, "-p", folder.FullName + "/", "-g", $"daemon off; pid {folder.FullName}/nginx.pid;" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
        var proxy = new NginxProxy(process, folder, restPort, grpcPort);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        foreach (var port in new[] { restPort, grpcPort })
        {
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                    await Task.Delay(50);
                }
                catch (SocketException)
                {
                    var message = $"nginx did not listen on {port}:{Environment.NewLine}{string.Join(Environment.NewLine, output)}{Environment.NewLine}{proxy.ErrorLog}";
                    await proxy.DisposeAsync();
                    throw new InvalidOperationException(message);
                }
            }
        }

        return proxy;
    }

    /// <summary>SIGTERM (nginx's fast shutdown: the master stops its workers), then the folder goes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signals.TrySend(_process.Id, Signals.Terminate);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _folder.Delete(recursive: true);
    }
}
