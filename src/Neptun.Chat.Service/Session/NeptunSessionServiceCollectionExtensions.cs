using Microsoft.Extensions.Options;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Session;

namespace Neptun.Chat.Service.Session;

public static class NeptunSessionServiceCollectionExtensions
{
    /// <summary>The web app's own variable for the session secret, read so that both share one secret.</summary>
    public const string PasswordVariable = "NUXT_SESSION_PASSWORD";

    /// <summary>
    /// A session's maximum age unless <c>Session__MaxAgeSeconds</c> says otherwise: the web app's
    /// own 7 days ("session persists for 7 days" in its nuxt.config). The web app seals without an
    /// expiry, so without a maximum age here a stolen cookie would open this service forever.
    /// </summary>
    public const int DefaultMaxAgeSeconds = 7 * 24 * 60 * 60;

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
            .PostConfigure(options => options.MaxAgeSeconds ??= DefaultMaxAgeSeconds)
            .Validate(options => options.Password.Length >= SessionReaderOptions.MinPasswordLength,
                $"{PasswordVariable} must be set to a secret of at least {SessionReaderOptions.MinPasswordLength} characters.")
            .Validate(options => SessionSecrets.LooksRandom(options.Password),
                $"{PasswordVariable} looks guessable ({SessionSecrets.Requirement}): generate one, e.g. with `openssl rand -base64 48`.")
            .Validate(options => options.Passwords.Values.All(p => p.Length >= SessionReaderOptions.MinPasswordLength),
                $"Every Session__Passwords__<id> must be at least {SessionReaderOptions.MinPasswordLength} characters.")
            .Validate(options => options.Passwords.Values.All(SessionSecrets.LooksRandom),
                $"A Session__Passwords__<id> looks guessable ({SessionSecrets.Requirement}).")
            .Validate(options => options.MaxAgeSeconds is null or > 0, "Session__MaxAgeSeconds must be positive when set.")
            .ValidateOnStart();

        services.AddSingleton(sp => new SessionReader(sp.GetRequiredService<IOptions<SessionReaderOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SessionInterceptor>();
        return services;
    }
}
