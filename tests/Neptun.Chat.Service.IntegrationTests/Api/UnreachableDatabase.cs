namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>A service whose database does not answer: a loopback port nothing listens on.</summary>
public static class UnreachableDatabase
{
    public const string ConnectionString = "Host=127.0.0.1;Port=1;Username=nobody;Password=secret-db-password;Database=neptun;Timeout=2";

    public static ChatServiceFactory CreateFactory(IReadOnlyDictionary<string, string?>? settings = null) =>
        new(ConnectionString, new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Database:MigrateOnStartup"] = "false" });
}
