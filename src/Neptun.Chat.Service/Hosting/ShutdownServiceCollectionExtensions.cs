namespace Neptun.Chat.Service.Hosting;

public static class ShutdownServiceCollectionExtensions
{
    /// <summary>
    /// How long SIGTERM lets requests in flight finish unless <c>HostOptions:ShutdownTimeout</c> says
    /// otherwise. It should exceed <c>Database:RequestTimeoutSeconds</c>, so that every request in
    /// flight is answered, and stay below the orchestrator's grace period (Kubernetes: 30 s), after
    /// which it sends SIGKILL.
    /// </summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(25);

    public static IServiceCollection AddNeptunGracefulShutdown(this IServiceCollection services)
    {
        services.AddOptions<HostOptions>()
            .Configure(options => options.ShutdownTimeout = DefaultShutdownTimeout)
            .BindConfiguration("HostOptions");
        return services;
    }
}
