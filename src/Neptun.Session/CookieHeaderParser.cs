namespace Neptun.Session;

/// <summary>
/// Reads one cookie the way h3's getCookie does through cookie-es, so that the service and the web app agree on
/// which value a Cookie header carries, quirks included.
/// </summary>
public static class CookieHeaderParser
{
    /// <summary>
    /// The trimmed, unquoted but still encoded value of the first pair named <paramref name="name"/>; a slice of the
    /// header, so finding the session cookie allocates nothing.
    /// </summary>
    internal static bool TryGetRawValue(ReadOnlySpan<char> header, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        int index = 0;
        while (index < header.Length)
        {
            int equals = header[index..].IndexOf('=');
            if (equals < 0)
            {
                break;
            }

            equals += index;
            int end = header[index..].IndexOf(';');
            end = end < 0 ? header.Length : end + index;

            // cookie-es skips a pair without '=' (it jumps over all of them at once; the outcome is the same).
            if (end < equals)
            {
                index = end + 1;
                continue;
            }

            // cookie-es keeps the first value it sees for a name, so the first match is the answer.
            if (TrimJs(header[index..equals]).SequenceEqual(name))
            {
                value = Unquote(TrimJs(header[(equals + 1)..end]));
                return true;
            }

            index = end + 1;
        }

        value = default;
        return false;
    }

    /// <summary>cookie-es decodes only a value holding '%', and keeps it raw when decodeURIComponent throws.</summary>
    /// <param name="buffer">At least as long as <paramref name="raw"/>.</param>
    internal static ReadOnlySpan<char> DecodeValue(ReadOnlySpan<char> raw, Span<char> buffer) =>
        UriComponentDecoder.TryDecode(raw, buffer, out int written) ? buffer[..written] : raw;

    // cookie-es drops the first and the last character whenever the first is a quote, even when the last is not.
    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> value) =>
        value.IsEmpty || value[0] != '"' ? value : value[1..Math.Max(1, value.Length - 1)];

    // String.prototype.trim differs from char.IsWhiteSpace in two characters: it strips U+FEFF and keeps U+0085.
    private static ReadOnlySpan<char> TrimJs(ReadOnlySpan<char> text)
    {
        int start = 0;
        while (start < text.Length && IsJsWhiteSpace(text[start]))
        {
            start++;
        }

        int end = text.Length;
        while (end > start && IsJsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    private static bool IsJsWhiteSpace(char c) => c == '\uFEFF' || (c != '\u0085' && char.IsWhiteSpace(c));
}
