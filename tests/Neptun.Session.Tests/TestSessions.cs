namespace Neptun.Session.Tests;

/// <summary>Passwords, a fixed clock and readers for the tests that seal their own cookies.</summary>
internal static class TestSessions
{
    public const string Password = "a-test-session-password-of-at-least-32-chars";
    public const string RotatedId = "k2";
    public const string RotatedPassword = "the-rotated-session-password-of-32-or-more";

    public static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public static readonly SessionUser Ada = new(123, "ada@example.com");

    public static SessionReader Reader(TimeProvider? clock = null, int? maxAgeSeconds = null) =>
        new(
            new SessionReaderOptions
            {
                Password = Password,
                Passwords = new() { [RotatedId] = RotatedPassword },
                MaxAgeSeconds = maxAgeSeconds,
            },
            clock ?? new ManualTimeProvider(Now));

    public static string Cookie(string seal) => $"{SessionReaderOptions.CookieName}={seal}";
}
