using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.Hosting;

public static class MigrateOnStartupExtensions
{
    /// <summary>Runs the migrations before serving when <c>Database:MigrateOnStartup</c> asks for it.</summary>
    public static WebApplication MigrateDatabaseIfAsked(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup)
        {
            app.Services.GetRequiredService<DatabaseMigrator>().Migrate();
        }

        return app;
    }
}
