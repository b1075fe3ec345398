using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Neptun.Session;

/// <summary>
/// Opens the web app's session (h3 useSession over iron Fe26.2) and says who is logged in. Never throws for what a
/// client sends: every bad input is a <see cref="SessionRejection"/>.
/// </summary>
public sealed class SessionReader
{
    // Room on the stack for ciphertext and plaintext of a usual session (a few hundred bytes each).
    private const int StackCipherBytes = 1024;

    private readonly byte[] _password;
    private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> _passwordsById;
    private readonly long? _maxAgeMilliseconds;
    private readonly TimeProvider _timeProvider;
    private readonly SessionCache _opened = new();

    public SessionReader(SessionReaderOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);

        // Messages name the setting, never its value: they end up in logs.
        if (!IronFormat.IsLongEnough(options.Password))
        {
            throw new ArgumentException(
                $"{nameof(SessionReaderOptions.Password)} must be at least {SessionReaderOptions.MinPasswordLength} characters long.", nameof(options));
        }

        var passwordsById = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach ((string id, string password) in options.Passwords ?? [])
        {
            // An empty id in a seal means the main password, so an entry under "" could never be used.
            if (id.Length == 0 || !IronFormat.IsLongEnough(password))
            {
                throw new ArgumentException(
                    $"Every {nameof(SessionReaderOptions.Passwords)} entry needs a non-empty id and a password of at least {SessionReaderOptions.MinPasswordLength} characters.",
                    nameof(options));
            }

            passwordsById.Add(id, Encoding.UTF8.GetBytes(password));
        }

        if (options.MaxAgeSeconds is <= 0)
        {
            // h3 treats maxAge 0 as "no limit", which a host writing 0 would hardly expect: leave it unset instead.
            throw new ArgumentException($"{nameof(SessionReaderOptions.MaxAgeSeconds)} must be positive when set.", nameof(options));
        }

        _password = Encoding.UTF8.GetBytes(options.Password);
        _passwordsById = passwordsById.GetAlternateLookup<ReadOnlySpan<char>>();
        _maxAgeMilliseconds = options.MaxAgeSeconds * 1000L;
        _timeProvider = timeProvider;
    }

    /// <param name="sessionHeader">The x-neptun-session-session header; null or empty when absent.</param>
    /// <param name="cookieHeader">The Cookie header(s) joined with "; "; null when absent.</param>
    public SessionReadResult Read(string? sessionHeader, string? cookieHeader)
    {
        // h3 takes a non-empty header and does not fall back to the cookie when that header fails.
        if (!string.IsNullOrEmpty(sessionHeader))
        {
            return Unseal(sessionHeader);
        }

        if (cookieHeader is null
            || !CookieHeaderParser.TryGetRawValue(cookieHeader, SessionReaderOptions.CookieName, out ReadOnlySpan<char> raw))
        {
            return SessionReadResult.Rejected(SessionRejection.Missing);
        }

        if (!raw.Contains('%'))
        {
            return Unseal(raw);
        }

        char[] decoded = ArrayPool<char>.Shared.Rent(raw.Length);
        try
        {
            return Unseal(CookieHeaderParser.DecodeValue(raw, decoded));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(decoded);
        }
    }

    /// <summary>How many opened seals the reader keeps now (for tests).</summary>
    internal int CachedSeals => _opened.Count;

    /// <summary>
    /// Checks in iron's order: shape, expiration, password id, MAC, and only then decrypts. A seal
    /// that opened to a user before, and is still valid, is answered from memory (<see cref="SessionCache"/>).
    /// </summary>
    public SessionReadResult Unseal(ReadOnlySpan<char> seal)
    {
        if (seal.IsEmpty)
        {
            return SessionReadResult.Rejected(SessionRejection.Missing);
        }

        // One range more than the parts, so that a ninth part shows up in the count.
        Span<Range> parts = stackalloc Range[IronFormat.PartCount + 1];
        if (seal.Length > IronFormat.MaxSealChars
            || seal.Split(parts, '*') != IronFormat.PartCount
            || !seal[parts[0]].SequenceEqual(IronFormat.Prefix))
        {
            return SessionReadResult.Rejected(SessionRejection.Malformed);
        }

        long now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        if (_opened.TryGet(seal, now, out SessionUser known))
        {
            return new SessionReadResult(known, SessionRejection.None);
        }

        ReadOnlySpan<char> expiration = seal[parts[5]];
        long sealValidBefore = long.MaxValue;
        if (!expiration.IsEmpty)
        {
            if (!IronFormat.TryParseExpiration(expiration, out long expiresAt))
            {
                return SessionReadResult.Rejected(SessionRejection.Malformed);
            }

            if (expiresAt <= now - IronFormat.ClockSkewMilliseconds)
            {
                return SessionReadResult.Rejected(SessionRejection.Expired);
            }

            sealValidBefore = expiresAt + IronFormat.ClockSkewMilliseconds;
        }

        if (!TryGetPassword(seal[parts[1]], out byte[]? password))
        {
            return SessionReadResult.Rejected(SessionRejection.UnknownPasswordId);
        }

        Span<char> mac = stackalloc char[IronCrypto.MacChars];
        IronCrypto.ComputeMac(password, seal[parts[6]], seal[..parts[5].End], mac);
        if (!CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(mac), MemoryMarshal.AsBytes(seal[parts[7]])))
        {
            return SessionReadResult.Rejected(SessionRejection.BadMac);
        }

        SessionReadResult result = Open(password, seal[parts[2]], seal[parts[3]], seal[parts[4]], now, out long ageValidBefore);
        if (result.User is SessionUser user)
        {
            _opened.Add(seal, user, Math.Min(sealValidBefore, ageValidBefore));
        }

        return result;
    }

    private bool TryGetPassword(ReadOnlySpan<char> passwordId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? password)
    {
        if (passwordId.IsEmpty)
        {
            password = _password;
            return true;
        }

        return _passwordsById.TryGetValue(passwordId, out password);
    }

    // Past the MAC the seal is our own server's, so a failure here means a broken sealer or a wrong password under
    // the right id, not an attacker: Undecryptable.
    private SessionReadResult Open(byte[] password, ReadOnlySpan<char> salt, ReadOnlySpan<char> ivText, ReadOnlySpan<char> cipherText, long now, out long validBefore)
    {
        validBefore = long.MaxValue;
        Span<byte> iv = stackalloc byte[IronCrypto.IvBytes];
        if (!TryDecodeBase64Url(ivText, iv, out int ivLength) || ivLength != IronCrypto.IvBytes)
        {
            return SessionReadResult.Rejected(SessionRejection.Undecryptable);
        }

        // Ciphertext and plaintext side by side; the plaintext is never longer than the ciphertext.
        int maxCipherBytes = Base64Url.GetMaxDecodedLength(cipherText.Length);
        byte[]? rented = null;
        Span<byte> buffer = maxCipherBytes * 2 <= StackCipherBytes
            ? stackalloc byte[StackCipherBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(maxCipherBytes * 2));
        Span<byte> ciphertext = buffer[..maxCipherBytes];
        Span<byte> plaintext = buffer.Slice(maxCipherBytes, maxCipherBytes);
        try
        {
            if (!TryDecodeBase64Url(cipherText, ciphertext, out int cipherLength)
                || cipherLength == 0
                || cipherLength % IronCrypto.BlockBytes != 0
                || !IronCrypto.TryDecrypt(password, salt, iv, ciphertext[..cipherLength], plaintext, out int plainLength))
            {
                return SessionReadResult.Rejected(SessionRejection.Undecryptable);
            }

            return SessionJson.Read(plaintext[..plainLength], now, _maxAgeMilliseconds, out validBefore);
        }
        finally
        {
            // The plaintext holds the user's e-mail address.
            CryptographicOperations.ZeroMemory(plaintext);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // Base64Url.TryDecodeFromChars throws on a bad character (its "Try" covers only a short destination);
    // the OperationStatus overload reports both without an exception.
    private static bool TryDecodeBase64Url(ReadOnlySpan<char> text, Span<byte> destination, out int written) =>
        Base64Url.DecodeFromChars(text, destination, out _, out written) == OperationStatus.Done;
}
