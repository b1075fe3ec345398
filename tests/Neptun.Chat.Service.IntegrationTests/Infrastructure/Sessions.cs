using Neptun.Session;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>Fresh cookies for seeded users, sealed the way the web app seals them.</summary>
public static class Sessions
{
    public static string SealFor(int userId, string? email = null) =>
        IronSealer.SealSession(new SessionUser(userId, email), SessionVectors.Password, DateTimeOffset.UtcNow);

    public static string CookieFor(int userId) => $"neptun-session={SealFor(userId)}";
}
