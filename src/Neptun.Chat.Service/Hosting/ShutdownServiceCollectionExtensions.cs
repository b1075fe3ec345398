using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.Hosting;

public static class ShutdownServiceCollectionExtensions
{
    /// <summary>
    /// How long SIGTERM lets requests in flight finish unless <c>HostOptions:ShutdownTimeout</c> says
    /// otherwise. It should exceed <c>Database:CreateTimeoutSeconds</c>, so that every request in
    /// flight is answered, and stay below the orchestrator's grace period (Kubernetes: 30 s), after
    /// which it sends SIGKILL. Checked at start.
    /// </summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(25);

    public static IServiceCollection AddNeptunGracefulShutdown(this IServiceCollection services)
    {
        services.AddOptions<HostOptions>()
            .Configure(options => options.ShutdownTimeout = DefaultShutdownTimeout)
            .BindConfiguration("HostOptions")
            .Validate<IOptions<DatabaseOptions>>(
                (host, database) => host.ShutdownTimeout >= LongestAnswer(database.Value),
                $"HostOptions:ShutdownTimeout must be at least Database:CreateTimeoutSeconds plus {ChatCreateQueue.AnswerGrace.TotalSeconds} s "
                + "(the longest a create waits for its answer), so that on SIGTERM every create in flight is answered before the process exits.")
            .ValidateOnStart();
        return services;
    }

    // An invalid create timeout is the database options' own refusal to report.
    private static TimeSpan LongestAnswer(DatabaseOptions database) => database.CreateTimeoutSeconds is > 0 and <= DatabaseOptions.MaxCreateTimeoutSeconds
        ? TimeSpan.FromSeconds(database.CreateTimeoutSeconds) + ChatCreateQueue.AnswerGrace
        : TimeSpan.Zero;
}
