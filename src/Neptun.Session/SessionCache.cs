using System.Collections.Concurrent;

namespace Neptun.Session;

/// <summary>
/// The users of seals already opened, until each seal stops being valid (its expiration or the
/// session's maximum age): a browser sends the same seal with every request, and opening it costs
/// two key derivations, a MAC and a decryption. Only seals that opened to a user are kept, so input
/// that fails cannot fill it; a seal is found only by all of its characters, compared in constant
/// time, as its MAC would be. Bounded: when full it starts again empty.
/// </summary>
internal sealed class SessionCache
{
    /// <summary>A few MB at most: seals are a few hundred characters.</summary>
    internal const int MaxEntries = 4096;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(SealComparer.Instance);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _bySeal;
    private int _added;

    public SessionCache() => _bySeal = _entries.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The user of <paramref name="seal"/> when it opened before and is still valid at <paramref name="now"/> (Unix ms).</summary>
    public bool TryGet(ReadOnlySpan<char> seal, long now, out SessionUser user)
    {
        if (_bySeal.TryGetValue(seal, out var entry))
        {
            if (now < entry.ValidBefore)
            {
                user = entry.User;
                return true;
            }

            _bySeal.TryRemove(seal, out _);
        }

        user = default;
        return false;
    }

    /// <summary>Keeps a seal that opened to <paramref name="user"/>, valid before <paramref name="validBefore"/> (Unix ms).</summary>
    public void Add(ReadOnlySpan<char> seal, SessionUser user, long validBefore)
    {
        if (Interlocked.Increment(ref _added) > MaxEntries)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _added, 1);
        }

        _bySeal[seal] = new Entry(user, validBefore);
    }

    internal int Count => _entries.Count;

    private sealed record Entry(SessionUser User, long ValidBefore);

    private sealed class SealComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<char>, string>
    {
        public static readonly SealComparer Instance = new();

        public bool Equals(string? x, string? y) => x is not null && y is not null && Equals(x.AsSpan(), y);

        public bool Equals(ReadOnlySpan<char> alternate, string other) => ConstantTime.Equals(alternate, other);

        // string's own hash is seeded per process, so nobody outside can aim seals at one bucket.
        public int GetHashCode(string obj) => string.GetHashCode(obj.AsSpan());

        public int GetHashCode(ReadOnlySpan<char> alternate) => string.GetHashCode(alternate);

        public string Create(ReadOnlySpan<char> alternate) => alternate.ToString();
    }
}
