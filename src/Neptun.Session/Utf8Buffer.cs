using System.Buffers;
using System.Text;

namespace Neptun.Session;

/// <summary>
/// UTF-8 bytes of a span of text in a caller's stack buffer, or a rented one when the text is too long for it,
/// so salts and MAC input never become heap strings or arrays.
/// </summary>
internal ref struct Utf8Buffer
{
    private readonly byte[]? _rented;

    public Utf8Buffer(ReadOnlySpan<char> text, Span<byte> stackBuffer)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> target = maxBytes <= stackBuffer.Length ? stackBuffer : (_rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        Bytes = target[..Encoding.UTF8.GetBytes(text, target)];
    }

    public ReadOnlySpan<byte> Bytes { get; }

    public readonly void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }
}
