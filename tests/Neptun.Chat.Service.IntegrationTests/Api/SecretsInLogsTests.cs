using Grpc.Core;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>Every log line at every level, over both surfaces, for accepted and refused requests: no cookie, no password.</summary>
public sealed class SecretsInLogsTests
{
    // appsettings.json holds the service, ASP.NET Core and Npgsql at Information or above; these
    // lower every one of them to Trace, so that lines a production setting hides are searched too.
    private static readonly Dictionary<string, string?> TraceEverything = new()
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        ["Logging:LogLevel:Npgsql"] = "Trace",
    };

    [Fact]
    public async Task No_log_line_holds_the_cookie_or_a_password()
    {
        await using var service = await IsolatedService.StartAsync(settings: TraceEverything);
        var (factory, projectId) = (service.Factory, service.ProjectId);
        var seals = new[] { "valid", "tampered-mac", "wrong-password", "expired-seal" }
            .Select(SessionVectors.CookieHeader).ToList();

        foreach (var cookie in seals)
        {
            (await service.PostChatAsync(cookie: cookie)).Dispose();

            try
            {
                await factory.CreateChatClient().CreateProjectChatAsync(
                    new CreateProjectChatRequest { UserId = NeptunApiFixture.AdaId, ProjectId = projectId, Model = "google/gemma-2-27b-it", Name = "Logged" },
                    new Metadata { { "cookie", cookie } });
            }
            catch (RpcException)
            {
                // Refused seals are expected here; only the logs matter.
            }
        }

        await using (var unreachable = UnreachableDatabase.CreateFactory(TraceEverything))
        {
            (await unreachable.CreateClient().SendAsync(ChatRequests.Create(NeptunApiFixture.AdaId, 1, seals[0]))).Dispose();
            AssertClean(unreachable.Logs, seals, "secret-db-password");
        }

        Assert.Contains(factory.Logs.Lines, line => line.Contains("Created chat", StringComparison.Ordinal));
        Assert.Contains(factory.Logs.Lines, line => line.Contains("Session rejected", StringComparison.Ordinal));
        AssertClean(factory.Logs, seals, new Npgsql.NpgsqlConnectionStringBuilder(service.Database.ConnectionString).Password);
    }

    private static void AssertClean(CapturedLogs logs, IEnumerable<string> cookies, string? databasePassword)
    {
        Assert.NotEmpty(logs.Lines);
        var secrets = cookies.Select(c => c[(c.IndexOf("Fe26", StringComparison.Ordinal) is var i and >= 0 ? i : 0)..])
            .Select(seal => seal.Split('*').OrderByDescending(part => part.Length).First()) // the ciphertext part alone is enough to leak
            .Append(SessionVectors.Password)
            .Append(SessionVectors.PasswordK2)
            .Where(s => !string.IsNullOrEmpty(s))
            .ToList();
        if (!string.IsNullOrEmpty(databasePassword))
        {
            secrets.Add(databasePassword);
        }

        foreach (var line in logs.Lines)
        {
            foreach (var secret in secrets)
            {
                Assert.False(line.Contains(secret, StringComparison.Ordinal), $"a secret was logged: {line[..Math.Min(line.Length, 200)]}");
            }
        }
    }
}
