using System.Text.Json;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>The cookies that the web app's own session code sealed (tests/Neptun.Session.Tests/Fixtures).</summary>
public static class SessionVectors
{
    private static readonly JsonDocument Document =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "neptun-session-vectors.json")));

    public static string Password => Document.RootElement.GetProperty("password").GetString()!;

    public static string PasswordK2 => Document.RootElement.GetProperty("passwordsById").GetProperty("k2").GetString()!;

    /// <summary>The whole Cookie header of the named case.</summary>
    public static string CookieHeader(string caseName) =>
        Document.RootElement.GetProperty("cases").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == caseName)
            .GetProperty("cookieHeader").GetString()!;

    /// <summary>The names of the cases whose expectation is the given verdict.</summary>
    public static IEnumerable<string> CaseNames(bool authenticated) =>
        Document.RootElement.GetProperty("cases").EnumerateArray()
            .Where(c => c.GetProperty("expect").GetProperty("authenticated").GetBoolean() == authenticated)
            .Select(c => c.GetProperty("name").GetString()!);

    public static int ExpectedUserId(string caseName) =>
        Document.RootElement.GetProperty("cases").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == caseName)
            .GetProperty("expect").GetProperty("userId").GetInt32();
}
