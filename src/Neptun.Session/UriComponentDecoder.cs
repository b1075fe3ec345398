using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace Neptun.Session;

/// <summary>
/// JavaScript's decodeURIComponent over spans: every %XX is decoded (no reserved set), and a run of escapes that
/// is not strict UTF-8 (overlong, surrogate, truncated) fails the whole value, as the URIError does in JS.
/// </summary>
internal static class UriComponentDecoder
{
    private const int StackBytes = 256;

    /// <param name="destination">At least as long as <paramref name="source"/>: decoding never lengthens text.</param>
    public static bool TryDecode(ReadOnlySpan<char> source, Span<char> destination, out int written)
    {
        written = 0;
        int maxEscapedBytes = source.Length / 3;
        byte[]? rented = null;
        Span<byte> bytes = maxEscapedBytes <= StackBytes
            ? stackalloc byte[StackBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(maxEscapedBytes));
        try
        {
            int i = 0;
            while (i < source.Length)
            {
                if (source[i] != '%')
                {
                    destination[written++] = source[i++];
                    continue;
                }

                // Consecutive escapes are decoded together: a multi-byte character spans several of them.
                int count = 0;
                while (i < source.Length && source[i] == '%')
                {
                    if (i + 2 >= source.Length
                        || !byte.TryParse(source.Slice(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[count]))
                    {
                        return false;
                    }

                    count++;
                    i += 3;
                }

                if (Utf8.ToUtf16(bytes[..count], destination[written..], out _, out int chars, replaceInvalidSequences: false)
                    != OperationStatus.Done)
                {
                    return false;
                }

                written += chars;
            }

            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
