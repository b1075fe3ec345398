using System.Globalization;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Session;
using Neptun.Session;

namespace Neptun.Chat.Service.Hosting;

/// <summary>
/// One-off commands of the same binary, for operators and the local run script:
/// <c>migrate</c> creates the Neptun tables where absent; <c>seal-session USER_ID [EMAIL]</c> prints
/// a <c>neptun-session</c> value sealed with NUXT_SESSION_PASSWORD, as the web app would issue it.
/// </summary>
public static class ServiceCommands
{
    public static bool TryRun(WebApplication app, string[] args, out int exitCode)
    {
        exitCode = 0;
        switch (args)
        {
            case ["migrate", ..]:
                app.Services.GetRequiredService<DatabaseMigrator>().Migrate();
                return true;

            case ["seal-session", var userId, .. var rest]:
                var password = app.Configuration[NeptunSessionServiceCollectionExtensions.PasswordVariable];
                if (string.IsNullOrEmpty(password) || !int.TryParse(userId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
                {
                    Console.Error.WriteLine($"usage: seal-session USER_ID [EMAIL], with {NeptunSessionServiceCollectionExtensions.PasswordVariable} set");
                    exitCode = 2;
                    return true;
                }

                var email = rest.Length > 0 ? rest[0] : null;
                Console.WriteLine(IronSealer.SealSession(new SessionUser(id, email), password, DateTimeOffset.UtcNow));
                return true;

            default:
                return false;
        }
    }
}
