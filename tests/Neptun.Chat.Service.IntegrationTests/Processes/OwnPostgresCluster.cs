using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// A PostgreSQL cluster of a test's own, which it may stop and start: scripts/test.sh's shared
/// server must stay up for every other test. Debian's newest server binaries, a temporary data
/// folder, a loopback port from <see cref="TestPorts"/>, trust authentication (loopback only), and
/// no fsync (its data is thrown away). PostgreSQL refuses to run as root, so as root it runs as the
/// <c>postgres</c> user.
/// </summary>
public sealed class OwnPostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _folder;
    private readonly string _binaries;
    private IReadOnlyList<int> _frozen = [];

    private OwnPostgresCluster(string folder, string binaries, int port)
    {
        _folder = folder;
        _binaries = binaries;
        Port = port;
    }

    public int Port { get; }

    public string AdminConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Database = "postgres", Pooling = false,
    }.ConnectionString;

    private string DataFolder => Path.Combine(_folder, "data");

    public static async Task<OwnPostgresCluster> StartAsync()
    {
        var binaries = Directory.GetDirectories("/usr/lib/postgresql")
            .Select(folder => Path.Combine(folder, "bin"))
            .Where(folder => File.Exists(Path.Combine(folder, "initdb")))
            .OrderBy(folder => int.TryParse(Path.GetFileName(Path.GetDirectoryName(folder)), out var version) ? version : 0)
            .LastOrDefault() ?? throw new InvalidOperationException("No PostgreSQL server under /usr/lib/postgresql: scripts/test.sh installs it.");

        var folder = Directory.CreateTempSubdirectory("neptun-pg-").FullName;
        if (ExternalCommand.IsRoot)
        {
            await ExternalCommand.RunAsync("chown", ["postgres:", folder], CommandTimeout);
        }

        var cluster = new OwnPostgresCluster(folder, binaries, TestPorts.Next());
        await cluster.AsServerUserAsync("initdb", ["-D", cluster.DataFolder, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
        await cluster.StartAgainAsync();
        return cluster;
    }

    /// <summary>Starts the stopped cluster and returns once it accepts connections.</summary>
    public Task StartAgainAsync() => AsServerUserAsync("pg_ctl", [
        "start", "-D", DataFolder, "-w", "-l", Path.Combine(_folder, "server.log"),
        "-o", $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off"]);

    /// <summary>Stops the cluster as an operator's restart does: sessions are ended, then the server exits.</summary>
    public Task StopAsync() => AsServerUserAsync("pg_ctl", ["stop", "-D", DataFolder, "-m", "fast", "-w"]);

    /// <summary>Stops the cluster as a power cut would: every process ends at once, and the next start recovers from the WAL.</summary>
    public Task CrashAsync() => AsServerUserAsync("pg_ctl", ["stop", "-D", DataFolder, "-m", "immediate", "-w"]);

    /// <summary>
    /// SIGSTOP of the postmaster and every process it started: the whole cluster stands still, as
    /// on a stalled disk or a paused VM. Connections stay open; nothing is answered until <see cref="Resume"/>.
    /// </summary>
    public void Freeze()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(DataFolder, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);

        // The postmaster first, so that it starts no process after the children are listed.
        Signals.Send(postmaster, Signals.Stop);
        var children = ChildrenOf(postmaster);
        _frozen = [.. children.Where(child => Signals.TrySend(child, Signals.Stop)), postmaster];
    }

    /// <summary>SIGCONT of what <see cref="Freeze"/> stopped: the children first, then the postmaster (which reaps any that had ended).</summary>
    public void Resume()
    {
        foreach (var process in _frozen)
        {
            Signals.TrySend(process, Signals.Continue);
        }

        _frozen = [];
    }

    public async ValueTask DisposeAsync()
    {
        if (_frozen.Count > 0)
        {
            Resume();
        }

        try
        {
            await AsServerUserAsync("pg_ctl", ["stop", "-D", DataFolder, "-m", "immediate", "-w"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        Directory.Delete(_folder, recursive: true);
    }

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var process))
            {
                continue;
            }

            try
            {
                // "pid (name) state ppid ...": the name may hold spaces and parentheses.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(process);
                }
            }
            catch (IOException)
            {
                // Ended meanwhile.
            }
        }

        return children;
    }

    private Task AsServerUserAsync(string program, string[] arguments)
    {
        var path = Path.Combine(_binaries, program);
        return ExternalCommand.IsRoot
            ? ExternalCommand.RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments], CommandTimeout)
            : ExternalCommand.RunAsync(path, arguments, CommandTimeout);
    }
}
