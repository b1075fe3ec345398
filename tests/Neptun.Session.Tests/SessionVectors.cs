using System.Text.Json;

namespace Neptun.Session.Tests;

/// <summary>Cookies sealed by the web app's own h3 + iron-webcrypto code, and what each must give.</summary>
internal static class SessionVectors
{
    private static readonly Lazy<JsonElement> s_root = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "neptun-session-vectors.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    });

    public const string RotatedCase = "valid-rotated-password-id-k2";

    public static string Password => s_root.Value.GetProperty("password").GetString()!;

    public static Dictionary<string, string> PasswordsById =>
        s_root.Value.GetProperty("passwordsById").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    public static TheoryData<string> CaseNames
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (JsonElement c in Cases)
            {
                names.Add(c.GetProperty("name").GetString()!);
            }

            return names;
        }
    }

    public static JsonElement Case(string name) => Cases.Single(c => c.GetProperty("name").GetString() == name);

    public static string CookieHeader(string name) => Case(name).GetProperty("cookieHeader").GetString()!;

    private static IEnumerable<JsonElement> Cases => s_root.Value.GetProperty("cases").EnumerateArray();
}
