using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// A database as the web app alone leaves it: its types and four tables in public, and nothing of
/// this service (no schema of its own, no migration journal). The service's first script creates
/// exactly that part, so its SQL is run here without DbUp.
/// </summary>
public static class WebAppSchema
{
    private const string WebAppScript = "0001_neptun_public_schema.sql";

    public static async Task CreateAsync(TestDatabase database)
    {
        var script = DatabaseMigrator.ScriptNames.Single(name => DatabaseMigrator.FileName(name) == WebAppScript);
        await using var stream = typeof(DatabaseMigrator).Assembly.GetManifestResourceStream(script)
            ?? throw new InvalidOperationException($"{script} is not embedded");
        using var reader = new StreamReader(stream);
        await database.ExecuteAsync(await reader.ReadToEndAsync());
    }
}
