using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's pgbouncer in transaction pooling mode in front of the test cluster, as the web app's
/// production database is reached. scripts/test.sh installs it when it is missing.
/// </summary>
public sealed class PgBouncer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Process _process;

    private PgBouncer(string directory, Process process, int port)
    {
        _directory = directory;
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// A connection string to <paramref name="database"/> through the pooler, as docs/operations.md tells
    /// operators to write it: no auto-prepare, which PgBouncer 1.18 cannot carry in transaction mode.
    /// </summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = database, Host = "127.0.0.1", Port = Port, Pooling = true, MaxAutoPrepare = 0 }.ConnectionString;

    /// <param name="serverConnections">Server connections per database: fewer than the service's clients, as behind a busy production pooler.</param>
    public static async Task<PgBouncer> StartAsync(int serverConnections = 20)
    {
        var server = new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString);
        var directory = Directory.CreateTempSubdirectory("neptun-pgbouncer-").FullName;
        var port = TestPorts.Next();

        // Root may not run pgbouncer: it drops to the postgres user, which must read these files.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var userList = Path.Combine(directory, "userlist.txt");
        await File.WriteAllTextAsync(userList, $"\"{server.Username}\" \"{server.Password}\"\n");
        var config = Path.Combine(directory, "pgbouncer.ini");
        await File.WriteAllTextAsync(config, $"""
            [databases]
            * = host={server.Host} port={server.Port}

            [pgbouncer]
            pool_mode = transaction
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = scram-sha-256
            auth_file = {userList}
            max_client_conn = 500
            default_pool_size = {serverConnections}
            ignore_startup_parameters = extra_float_digits
            admin_users = {server.Username}
            """);

        var start = new ProcessStartInfo(File.Exists("/usr/sbin/pgbouncer") ? "/usr/sbin/pgbouncer" : "pgbouncer") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (ExternalCommand.IsRoot)
        {
            start.ArgumentList.Add("--user=postgres");
        }

        start.ArgumentList.Add(config);
        var process = Process.Start(start) ?? throw new InvalidOperationException("pgbouncer did not start: run scripts/test.sh, which installs it.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var bouncer = new PgBouncer(directory, process, port);
        await bouncer.WaitUntilListeningAsync();
        return bouncer;
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"pgbouncer is not listening on 127.0.0.1:{Port} (exited: {_process.HasExited}).");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
