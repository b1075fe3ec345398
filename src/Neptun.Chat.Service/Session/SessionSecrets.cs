namespace Neptun.Chat.Service.Session;

/// <summary>
/// Refuses a session secret that is visibly not random. Iron derives its keys with a single
/// PBKDF2-SHA1 round, so anyone holding one cookie can test guesses offline at full speed: a
/// secret made of few distinct characters, or of a short text repeated, falls quickly. This is
/// no proof of entropy, only a refusal of the obvious mistakes.
/// </summary>
public static class SessionSecrets
{
    public const int MinDistinctCharacters = 12;

    public static readonly string Requirement = $"at least {MinDistinctCharacters} distinct characters, and not a shorter text repeated";

    public static bool LooksRandom(string secret) =>
        secret.Distinct().Count() >= MinDistinctCharacters && !IsRepetition(secret);

    // A text is a repetition when some shorter period makes it up entirely, e.g. "abcabcabc".
    private static bool IsRepetition(string secret)
    {
        for (var period = 1; period <= secret.Length / 2; period++)
        {
            if (secret.AsSpan(period).SequenceEqual(secret.AsSpan(0, secret.Length - period)))
            {
                return true;
            }
        }

        return false;
    }
}
