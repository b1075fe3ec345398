namespace Neptun.Session.Tests;

/// <summary>One cookie's decoded value, found and decoded by the two steps <see cref="SessionReader"/> takes.</summary>
internal static class CookieValue
{
    /// <returns>The value, or null when the header holds no pair with that name.</returns>
    public static string? Find(string? cookieHeader, string name)
    {
        if (cookieHeader is null || !CookieHeaderParser.TryGetRawValue(cookieHeader, name, out ReadOnlySpan<char> raw))
        {
            return null;
        }

        return CookieHeaderParser.DecodeValue(raw, new char[raw.Length]).ToString();
    }
}
