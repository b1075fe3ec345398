using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Neptun.Session;

/// <summary>
/// Seals as iron-webcrypto does for h3, for tests, the demo cookie and benchmarks; the service itself only reads.
/// </summary>
public static class IronSealer
{
    public static string Seal(string json, string password, string passwordId = "", DateTimeOffset? expiration = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Seal(Encoding.UTF8.GetBytes(json), password, passwordId, expiration);
    }

    /// <summary>Seals the session object h3 keeps for a user logged in at <paramref name="createdAt"/>.</summary>
    public static string SealSession(
        SessionUser user, string password, DateTimeOffset createdAt, string passwordId = "", DateTimeOffset? expiration = null) =>
        Seal(SessionJson.Write(user, createdAt), password, passwordId, expiration);

    /// <summary>
    /// Adds salt and MAC to the first six parts as given, however wrong they are: the tests use it to reach what a
    /// reader checks only behind a valid MAC.
    /// </summary>
    internal static string Sign(string macInput, string password)
    {
        ValidatePassword(password);
        byte[] passwordBytes = Encoding.UTF8.GetBytes(password);
        try
        {
            return Sign(macInput, passwordBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    private static string Seal(byte[] plaintext, string password, string passwordId, DateTimeOffset? expiration)
    {
        ValidatePassword(password);
        ArgumentNullException.ThrowIfNull(passwordId);
        if (!IronFormat.IsSealablePasswordId(passwordId))
        {
            throw new ArgumentException("A password id may hold only ASCII letters, digits and '_'.", nameof(passwordId));
        }

        string encryptionSalt = NewSalt();
        Span<byte> iv = stackalloc byte[IronCrypto.IvBytes];
        RandomNumberGenerator.Fill(iv);
        byte[] passwordBytes = Encoding.UTF8.GetBytes(password);
        try
        {
            byte[] ciphertext = IronCrypto.Encrypt(passwordBytes, encryptionSalt, iv, plaintext);
            string macInput = string.Join(
                '*',
                IronFormat.Prefix,
                passwordId,
                encryptionSalt,
                Base64Url.EncodeToString(iv),
                Base64Url.EncodeToString(ciphertext),
                expiration?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "");
            return Sign(macInput, passwordBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static string Sign(string macInput, byte[] password)
    {
        string macSalt = NewSalt();
        Span<char> mac = stackalloc char[IronCrypto.MacChars];
        IronCrypto.ComputeMac(password, macSalt, macInput, mac);
        return string.Concat(macInput, "*", macSalt, "*", new string(mac));
    }

    // iron's salts are 256 random bits written as lowercase hex.
    private static string NewSalt()
    {
        Span<byte> salt = stackalloc byte[IronFormat.SaltBytes];
        RandomNumberGenerator.Fill(salt);
        return Convert.ToHexStringLower(salt);
    }

    private static void ValidatePassword(string password)
    {
        if (!IronFormat.IsLongEnough(password))
        {
            throw new ArgumentException($"The password must be at least {SessionReaderOptions.MinPasswordLength} characters long.", nameof(password));
        }
    }
}
