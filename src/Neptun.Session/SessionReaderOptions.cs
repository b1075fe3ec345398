namespace Neptun.Session;

/// <summary>What <see cref="SessionReader"/> needs to open the web app's session; the host binds it from configuration.</summary>
public sealed class SessionReaderOptions
{
    public const string CookieName = "neptun-session";

    /// <summary>h3 derives this name from the session name and reads it before the cookie.</summary>
    public const string HeaderName = "x-neptun-session-session";

    /// <summary>Iron refuses a password shorter than this, for sealing and unsealing alike.</summary>
    public const int MinPasswordLength = 32;

    /// <summary>The web app's NUXT_SESSION_PASSWORD; iron refuses anything shorter than <see cref="MinPasswordLength"/> characters.</summary>
    public string Password { get; set; } = "";

    /// <summary>Extra passwords by iron password id, so a secret can be rotated without logging everyone out.</summary>
    public Dictionary<string, string> Passwords { get; set; } = new();

    /// <summary>Off by default, as in h3: when set, sessions whose createdAt is older are rejected.</summary>
    public int? MaxAgeSeconds { get; set; }
}
