using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Hosts;

/// <summary>
/// The service as a process of its own, as it runs in production: <c>dotnet Neptun.Chat.Service.dll</c>
/// from the service project's build output (so its appsettings.json is read), on two loopback
/// ports, migrating its database, with the tests' session password. It can be killed or sent
/// SIGTERM; its console output is kept for failure messages.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    // Enough for a test to find a line written at start after a few hundred requests.
    private const int KeptLines = 2000;
    private const int LinesInOutput = 200;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly GrpcChannel _channel;

    private ServiceProcess(Process process, int restPort, int grpcPort, int operationsPort)
    {
        _process = process;
        RestAddress = new Uri($"http://127.0.0.1:{restPort}");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        OperationsAddress = new Uri($"http://127.0.0.1:{operationsPort}");
        _channel = GrpcChannel.ForAddress(GrpcAddress);
        process.OutputDataReceived += (_, line) => Keep(line.Data);
        process.ErrorDataReceived += (_, line) => Keep(line.Data);
    }

    public Uri RestAddress { get; }
    public Uri GrpcAddress { get; }

    /// <summary>Probes and metrics.</summary>
    public Uri OperationsAddress { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The process id, to read its memory from /proc.</summary>
    public int Id => _process.Id;
    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the service wrote, for a failure message.</summary>
    public string Output => string.Join(Environment.NewLine, _output.TakeLast(LinesInOutput));

    /// <summary>The lines the service wrote, the last <see cref="KeptLines"/> of them.</summary>
    public IReadOnlyList<string> Lines => _output.ToArray();

    /// <param name="untilReady">Wait for <c>/healthz/ready</c>; false waits only for <c>/healthz/live</c>, for a service that should not get ready.</param>
    public static async Task<ServiceProcess> StartAsync(string databaseConnectionString, IReadOnlyDictionary<string, string>? settings = null, bool untilReady = true)
    {
        var restPort = TestPorts.Next();
        var grpcPort = TestPorts.Next();
        var operationsPort = TestPorts.Next();
        var start = StartInfo(databaseConnectionString);
        start.Environment["Database__MigrateOnStartup"] = "true";
        start.Environment["Kestrel__Endpoints__Rest__Url"] = $"http://127.0.0.1:{restPort}";
        start.Environment["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpcPort}";
        start.Environment["Kestrel__Endpoints__Operations__Url"] = $"http://127.0.0.1:{operationsPort}";
        start.Environment["RateLimiting__PermitLimit"] = "1000000";
        // Tests poll health without a session far faster than a balancer would; the anonymous
        // flood test sets its own limits.
        start.Environment["RateLimiting__AnonymousPermitsPerSecond"] = "1000000";
        start.Environment["RateLimiting__AnonymousBurst"] = "1000000";
        start.Environment["RateLimiting__AnonymousConcurrency"] = "100000";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process, restPort, grpcPort, operationsPort);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await service.WaitUntilAnsweringAsync(untilReady ? "/healthz/ready" : "/healthz/live");
        return service;
    }

    /// <summary>A one-off command of the same binary (such as <c>migrate</c>), as an operator runs it; fails with its output unless it exits 0.</summary>
    public static Task RunCommandAsync(string databaseConnectionString, params string[] arguments)
    {
        var start = StartInfo(databaseConnectionString);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return ExternalCommand.RunAsync(start, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// The <c>migrate</c> command with what deploy/kubernetes/migrate-job.yaml gives it: a connection
    /// string, no session password.
    /// </summary>
    public static Task MigrateAsTheJobDoesAsync(string databaseConnectionString)
    {
        var start = StartInfo(databaseConnectionString);
        start.Environment.Remove("NUXT_SESSION_PASSWORD");
        start.ArgumentList.Add("migrate");
        return ExternalCommand.RunAsync(start, TimeSpan.FromSeconds(60));
    }

    public ChatService.ChatServiceClient CreateChatClient() => new(_channel);

    /// <summary>
    /// One create in Ada's project outside any load: a fresh process pays for JIT compilation and
    /// its first connections on its first calls, which would otherwise blur a fault's figures.
    /// </summary>
    public async Task WarmUpAsync(int projectId) => await CreateChatClient().CreateProjectChatAsync(
        new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = NeptunApiFixture.ValidModel, Name = "warm-up" },
        new Metadata { { "cookie", Sessions.CookieFor(NeptunApiFixture.AdaId) } },
        DateTime.UtcNow.AddSeconds(60));

    /// <summary>Ada and a project of hers stored in <paramref name="database"/>, and the process warmed up on it; returns the project's id.</summary>
    public async Task<int> ServeAdaProjectAsync(TestDatabase database)
    {
        await NeptunRows.InsertUserAsync(database, NeptunApiFixture.AdaId);
        var projectId = await NeptunRows.InsertProjectAsync(database, NeptunApiFixture.AdaId);
        await WarmUpAsync(projectId);
        return projectId;
    }

    /// <summary>gRPC health of <paramref name="service"/>: ChatService's unless another name is given ("" or "liveness").</summary>
    public async Task<HealthCheckResponse.Types.ServingStatus> HealthAsync(string? service = null)
    {
        var reply = await new Health.HealthClient(_channel).CheckAsync(
            new HealthCheckRequest { Service = service ?? ChatService.Descriptor.FullName }, deadline: DateTime.UtcNow.AddSeconds(5));
        return reply.Status;
    }

    /// <summary>SIGKILL: the process ends at once, whatever it was doing.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, as an orchestrator stops a container: the service should drain and exit 0.</summary>
    public void Terminate() => Signals.Send(_process.Id, Signals.Terminate);

    /// <summary>The CPU time the process has used so far (user and system, from /proc).</summary>
    public TimeSpan CpuTime()
    {
        // "pid (name) state ppid ...": utime and stime are the 14th and 15th fields, in clock ticks (100 a second).
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromSeconds((long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0);
    }

    /// <summary>The resident memory of the process (VmRSS), in MiB.</summary>
    public double ResidentMegabytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>Waits for the process to exit; false when it is still running after the timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task WaitUntilAnsweringAsync(string probe)
    {
        using var http = new HttpClient { BaseAddress = OperationsAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {_process.ExitCode} before {probe} answered:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(probe, UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{probe} did not answer within 60 s:{Environment.NewLine}{Output}");
    }

    private static ProcessStartInfo StartInfo(string databaseConnectionString)
    {
        var serviceDll = FindServiceDll();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(serviceDll),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { serviceDll },
        };

        // Only the settings given here: scripts/test.sh's PG* variables name another server.
        foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        // The runtime settings the image gives the service (the Dockerfile's ENV DOTNET_... lines),
        // so that what is tested runs as what ships: inline socket completions, the gen0 budget.
        foreach (var (name, value) in ImageRuntimeSettings.Value)
        {
            start.Environment[name] = value;
        }

        start.Environment["DATABASE_CONNECTION_STRING"] = databaseConnectionString;
        start.Environment["NUXT_SESSION_PASSWORD"] = SessionVectors.Password;
        return start;
    }

    private static readonly Lazy<IReadOnlyList<(string Name, string Value)>> ImageRuntimeSettings = new(() =>
        [.. File.ReadLines(RepositoryFiles.Find("Dockerfile"))
            .Select(line => DockerfileRuntimeSetting().Match(line))
            .Where(match => match.Success)
            .Select(match => (match.Groups[1].Value, match.Groups[2].Value))]);

    [GeneratedRegex(@"^ENV (DOTNET_[A-Za-z0-9_]+)=(\S+)$")]
    private static partial Regex DockerfileRuntimeSetting();

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>The service project's build output beside this test project's: same configuration and framework.</summary>
    private static string FindServiceDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Neptun.Grpc.sln")))
        {
            root = root.Parent;
        }

        var dll = Path.Combine(root?.FullName ?? throw new InvalidOperationException("Neptun.Grpc.sln not found above the test output"),
            "src", "Neptun.Chat.Service", "bin", configuration, framework, "Neptun.Chat.Service.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first: the service's own build output is missing", dll);
    }
}
