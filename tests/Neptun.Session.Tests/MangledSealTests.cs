using System.Text;

namespace Neptun.Session.Tests;

public sealed class MangledSealTests
{
    private const int Seed = 20261126;
    private const int Rounds = 1000;

    // Characters a seal never holds next to ones it does, and some that trip encoders.
    private const string OddChars = "A0z_-*.=+/%; \"\\\u00E9\u0000\uD800\uDC00\uFFFF\u2028";

    private static readonly string s_valid = IronSealer.SealSession(
        new SessionUser(42, "mangled@example.com"), TestSessions.RotatedPassword, TestSessions.Now, TestSessions.RotatedId, TestSessions.Now.AddDays(1));

    [Fact]
    public void Mangled_seals_never_throw_and_never_authenticate()
    {
        var random = new Random(Seed);
        SessionReader reader = TestSessions.Reader();
        Assert.True(reader.Unseal(s_valid).User is not null);

        for (int round = 0; round < Rounds; round++)
        {
            (string kind, string seal) = Mangle(random);
            string where = $"seed {Seed}, round {round}, {kind}";
            try
            {
                Assert.False(reader.Unseal(seal).User is not null, where);
                Assert.False(reader.Read(seal, null).User is not null, where);
                Assert.False(reader.Read(null, TestSessions.Cookie(seal)).User is not null, where);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"{where}: threw {e.GetType().Name}");
            }
        }
    }

    private static (string Kind, string Seal) Mangle(Random random)
    {
        string[] parts = s_valid.Split('*');
        switch (random.Next(9))
        {
            case 0:
                return ("truncated", s_valid[..random.Next(s_valid.Length)]);
            case 1:
                var fewer = parts.ToList();
                fewer.RemoveAt(random.Next(fewer.Count));
                return ("part dropped", string.Join('*', fewer));
            case 2:
                var more = parts.ToList();
                more.Insert(random.Next(more.Count + 1), RandomText(random, 30));
                return ("part added", string.Join('*', more));
            case 3:
                char[] chars = s_valid.ToCharArray();
                int at = random.Next(chars.Length);
                chars[at] = OtherChar(random, chars[at]);
                return ("character replaced", new string(chars));
            case 4:
                int broken = random.Next(3, 5);
                parts[broken] = RandomText(random, 200);
                return ("bad base64 behind a valid mac", Resign(parts));
            case 5:
                return ("valid mac over garbage plaintext", IronSealer.Seal(GarbagePlaintext(random), TestSessions.Password));
            case 6:
                return random.Next(2) == 0
                    ? ("huge", s_valid + new string('A', random.Next(16_000, 100_000)))
                    : ("huge ciphertext behind a valid mac", ResignWithCiphertext(parts, new string('A', random.Next(16_000, 40_000))));
            case 7:
                return ("random text", RandomText(random, 600));
            default:
                int first = random.Next(parts.Length);
                int second = (first + 1 + random.Next(parts.Length - 1)) % parts.Length;
                (parts[first], parts[second]) = (parts[second], parts[first]);
                return ("parts swapped", string.Join('*', parts));
        }
    }

    private static string Resign(string[] parts) => IronSealer.Sign(string.Join('*', parts[..6]), TestSessions.RotatedPassword);

    private static string ResignWithCiphertext(string[] parts, string ciphertext)
    {
        parts[4] = ciphertext;
        return Resign(parts);
    }

    private static char OtherChar(Random random, char current)
    {
        char replacement;
        do
        {
            replacement = OddChars[random.Next(OddChars.Length)];
        }
        while (replacement == current);

        return replacement;
    }

    private static string RandomText(Random random, int maxLength)
    {
        var text = new StringBuilder();
        int length = random.Next(maxLength + 1);
        for (int i = 0; i < length; i++)
        {
            text.Append(random.Next(4) == 0 ? OddChars[random.Next(OddChars.Length)] : (char)random.Next(0x21, 0x7F));
        }

        return text.ToString();
    }

    // Never a session with a usable user: each is broken JSON or a user the reader must refuse.
    private static string GarbagePlaintext(Random random)
    {
        string whole = """{"id":"x","createdAt":1,"data":{"user":{"id":42,"primary_email":"m@example.com"}}}""";
        return random.Next(6) switch
        {
            0 => RandomText(random, 300),
            1 => whole[..random.Next(whole.Length)],
            2 => whole + RandomText(random, 10) + "x",
            3 => new string('[', 200 + random.Next(800)) + new string(']', 200),
            4 => whole.Replace("42", random.Next(3) switch { 0 => "0", 1 => "-42", _ => "\"42\"" }, StringComparison.Ordinal),
            _ => whole.Replace("\"user\"", "\"usr\"", StringComparison.Ordinal),
        };
    }
}
