using Microsoft.Extensions.Options;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

public static class NeptunSessionServiceCollectionExtensions
{
    /// <summary>The web app's own variable for the session secret, read so that both share one secret.</summary>
    public const string PasswordVariable = "NUXT_SESSION_PASSWORD";

    /// <summary>Binds <c>Session</c> (extra passwords by id, MaxAgeSeconds) and NUXT_SESSION_PASSWORD; refuses to start without a strong secret.</summary>
    public static IServiceCollection AddNeptunSession(this IServiceCollection services)
    {
        services.AddOptions<SessionReaderOptions>()
            .BindConfiguration("Session")
            .Configure<IConfiguration>((options, configuration) =>
            {
                var password = configuration[PasswordVariable];
                if (!string.IsNullOrEmpty(password))
                {
                    options.Password = password;
                }
            })
            .Validate(options => options.Password.Length >= SessionReaderOptions.MinPasswordLength,
                $"{PasswordVariable} must be set to a secret of at least {SessionReaderOptions.MinPasswordLength} characters.")
            .Validate(options => options.Passwords.Values.All(p => p.Length >= SessionReaderOptions.MinPasswordLength),
                $"Every Session__Passwords__<id> must be at least {SessionReaderOptions.MinPasswordLength} characters.")
            .Validate(options => options.MaxAgeSeconds is null or > 0, "Session__MaxAgeSeconds must be positive when set.")
            .ValidateOnStart();

        services.AddSingleton(sp => new SessionReader(sp.GetRequiredService<IOptions<SessionReaderOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SessionInterceptor>();
        return services;
    }
}
