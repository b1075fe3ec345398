using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Hosts;

/// <summary>
/// The whole service in process (the real ASP.NET Core pipeline on TestServer), migrating its own
/// database, with the web app's test session password and every log line captured.
/// </summary>
public sealed class ChatServiceFactory(string databaseConnectionString, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    public CapturedLogs Logs { get; } = new();

    /// <summary>Services a test adds or replaces after the service's own, e.g. an in-memory exporter.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>The host environment; tests run as Development unless they need Production's behaviour.</summary>
    public string Environment { get; init; } = "Development";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.UseSetting("DATABASE_CONNECTION_STRING", databaseConnectionString);
        builder.UseSetting("NUXT_SESSION_PASSWORD", SessionVectors.Password);
        builder.UseSetting("Session:Passwords:k2", SessionVectors.PasswordK2);
        builder.UseSetting("Database:MigrateOnStartup", "true");
        builder.UseSetting("Database:ModelCatalogRefreshSeconds", "0");

        // A free port, since tests on real sockets bind it (TestServer ignores it, but the service reads its port).
        builder.UseSetting(OperationsPort.UrlKey, $"http://127.0.0.1:{TestPorts.Next()}");

        // Tests read the request lines of successful calls too; the sampling tests set their own rate.
        builder.UseSetting("RequestLog:SuccessSampleRate", "1");

        // Tests send far more than a user's default budget, signed in or not, and every refusal's
        // line is read; the rate limit and log budget tests set their own.
        builder.UseSetting("RateLimiting:PermitLimit", "1000000");
        builder.UseSetting("RateLimiting:AnonymousPermitsPerSecond", "1000000");
        builder.UseSetting("RateLimiting:AnonymousBurst", "1000000");
        builder.UseSetting("RateLimiting:AnonymousConcurrency", "100000");
        builder.UseSetting("RequestLog:AnonymousLinesPerSecond", "1000000");

        // The web app's sealed vectors were sealed once, long before the default maximum age.
        builder.UseSetting("Session:MaxAgeSeconds", "2000000000");

        // Test classes run side by side on few cores, where a create can wait seconds for CPU; the
        // pool exhaustion test sets its own short timeout.
        // Shutdown waits as long as a create may (the service refuses to start otherwise).
        builder.UseSetting("Database:CreateTimeoutSeconds", "60");
        if (settings?.ContainsKey("Database:CreateTimeoutSeconds") != true)
        {
            builder.UseSetting("HostOptions:ShutdownTimeout", "00:01:05");
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(Logs);
        });
        if (TestServices is not null)
        {
            builder.ConfigureTestServices(TestServices);
        }
    }

    /// <summary>The operations port (probes, metrics), as the service reads it.</summary>
    public int OperationsPortNumber => OperationsPort.Read(Services.GetRequiredService<IConfiguration>())!.Value;

    /// <summary>
    /// A client of the operations port. On TestServer no socket has a port, so each request is given
    /// the operations port as its local port, which is what the service checks.
    /// </summary>
    public HttpClient CreateOperationsClient()
    {
        var port = OperationsPortNumber;
        return new HttpClient(Server.CreateHandler(context => context.Connection.LocalPort = port)) { BaseAddress = Server.BaseAddress };
    }

    public GrpcChannel CreateGrpcChannel() =>
        GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });

    public ChatService.ChatServiceClient CreateChatClient() => new(CreateGrpcChannel());
}
