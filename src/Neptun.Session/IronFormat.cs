using System.Buffers;

namespace Neptun.Session;

/// <summary>The fixed facts of iron's Fe26.2 seal as iron-webcrypto 1.2 writes and checks it.</summary>
internal static class IronFormat
{
    public const string Prefix = "Fe26.2";
    public const int PartCount = 8;

    // iron accepts a seal up to this long after its expiration, for clocks that disagree.
    public const long ClockSkewMilliseconds = 60_000;

    // Node refuses request headers past 16 KiB by default, so the web app never unseals anything longer;
    // the cap also bounds the buffers a hostile header can make us rent.
    public const int MaxSealChars = 16 * 1024;

    public const int SaltBytes = 32;

    // iron seals only with ids matching /^\w+$/, where \w is ASCII.
    private static readonly SearchValues<char> s_passwordIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");

    public static bool IsLongEnough(string? password) => password is { Length: >= SessionReaderOptions.MinPasswordLength };

    public static bool IsSealablePasswordId(string passwordId) =>
        passwordId.Length == 0 || !passwordId.AsSpan().ContainsAnyExcept(s_passwordIdChars);

    /// <summary>iron takes any all-digit expiration; digits past long's range saturate, since they only mean "far future".</summary>
    public static bool TryParseExpiration(ReadOnlySpan<char> text, out long milliseconds)
    {
        milliseconds = 0;
        if (text.IsEmpty || text.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        foreach (char digit in text)
        {
            milliseconds = milliseconds > (long.MaxValue - 9) / 10 ? long.MaxValue : (milliseconds * 10) + (digit - '0');
        }

        return true;
    }
}
