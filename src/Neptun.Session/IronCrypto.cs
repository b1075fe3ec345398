using System.Buffers.Text;
using System.Security.Cryptography;

namespace Neptun.Session;

/// <summary>iron's key derivation, MAC and cipher, shared by the reader and the sealer so both stay byte-for-byte alike.</summary>
internal static class IronCrypto
{
    public const int KeyBytes = 32;
    public const int IvBytes = 16;
    public const int BlockBytes = 16;

    // Unpadded base64url of a 32-byte HMAC-SHA256 digest.
    public const int MacChars = 43;

    // Room on the stack for the UTF-8 of a usual salt (64 hex chars) and of a usual MAC input (a few hundred chars).
    private const int SaltStackBytes = 256;
    private const int MacInputStackBytes = 1024;

    // Creating an Aes costs far more than re-keying one; a thread never runs two unseals at once.
    [ThreadStatic]
    private static Aes? t_aes;

    /// <summary>iron feeds the salt to PBKDF2 as its text, not as the hex it looks like.</summary>
    public static void DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<char> salt, Span<byte> key)
    {
        using var saltBytes = new Utf8Buffer(salt, stackalloc byte[SaltStackBytes]);
        Rfc2898DeriveBytes.Pbkdf2(password, saltBytes.Bytes, key, 1, HashAlgorithmName.SHA1);
    }

    public static void ComputeMac(ReadOnlySpan<byte> password, ReadOnlySpan<char> salt, ReadOnlySpan<char> macInput, Span<char> mac)
    {
        Span<byte> key = stackalloc byte[KeyBytes];
        Span<byte> digest = stackalloc byte[HMACSHA256.HashSizeInBytes];
        try
        {
            DeriveKey(password, salt, key);
            using var input = new Utf8Buffer(macInput, stackalloc byte[MacInputStackBytes]);
            HMACSHA256.HashData(key, input.Bytes, digest);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        Base64Url.EncodeToChars(digest, mac);
    }

    /// <summary>False, not an exception, for a wrong key or padding: the caller turns it into a rejection.</summary>
    public static bool TryDecrypt(
        ReadOnlySpan<byte> password, ReadOnlySpan<char> salt, ReadOnlySpan<byte> iv,
        ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        Span<byte> key = stackalloc byte[KeyBytes];
        try
        {
            DeriveKey(password, salt, key);
            return KeyedAes(key).TryDecryptCbc(ciphertext, iv, plaintext, out written, PaddingMode.PKCS7);
        }
        catch (CryptographicException)
        {
            written = 0;
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static byte[] Encrypt(ReadOnlySpan<byte> password, ReadOnlySpan<char> salt, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plaintext)
    {
        Span<byte> key = stackalloc byte[KeyBytes];
        try
        {
            DeriveKey(password, salt, key);
            return KeyedAes(key).EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static Aes KeyedAes(ReadOnlySpan<byte> key)
    {
        Aes aes = t_aes ??= Aes.Create();
        aes.SetKey(key);
        return aes;
    }
}
