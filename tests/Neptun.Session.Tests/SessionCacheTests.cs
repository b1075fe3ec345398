namespace Neptun.Session.Tests;

/// <summary>A reader answers a seal it opened before from memory, exactly as long as the seal is valid.</summary>
public sealed class SessionCacheTests
{
    [Fact]
    public void A_seal_read_again_expires_on_time()
    {
        DateTimeOffset expiration = TestSessions.Now;
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now, expiration: expiration);
        var clock = new ManualTimeProvider(expiration.AddSeconds(-10));
        SessionReader reader = TestSessions.Reader(clock);

        Assert.Equal(TestSessions.Ada, reader.Unseal(seal).User);
        clock.Now = expiration.AddMilliseconds(59_999);
        Assert.Equal(TestSessions.Ada, reader.Unseal(seal).User);
        clock.Now = expiration.AddMilliseconds(60_000);
        Assert.Equal(new SessionReadResult(null, SessionRejection.Expired), reader.Unseal(seal));
    }

    [Fact]
    public void A_seal_one_character_off_a_known_one_is_checked_in_full()
    {
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now);
        SessionReader reader = TestSessions.Reader();
        Assert.True(reader.Unseal(seal).User is not null);

        string tampered = seal[..^1] + (seal[^1] == 'A' ? 'B' : 'A');

        Assert.Equal(SessionRejection.BadMac, reader.Unseal(tampered).Rejection);
    }

    [Fact]
    public void Only_seals_that_open_to_a_user_are_kept()
    {
        SessionReader reader = TestSessions.Reader();
        string wrongPassword = IronSealer.SealSession(TestSessions.Ada, "another-password-that-is-32-characters-long", TestSessions.Now);
        string noUser = IronSealer.Seal("""{"createdAt":1,"data":{}}""", TestSessions.Password);

        Assert.Equal(SessionRejection.BadMac, reader.Unseal(wrongPassword).Rejection);
        Assert.Equal(SessionRejection.NoUser, reader.Unseal(noUser).Rejection);
        Assert.Equal(0, reader.CachedSeals);

        Assert.True(reader.Unseal(IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now)).User is not null);
        Assert.Equal(1, reader.CachedSeals);
    }

    [Fact]
    public void An_entry_serves_until_its_moment_and_not_from_it()
    {
        var cache = new SessionCache();
        cache.Add("Fe26.2**seal", TestSessions.Ada, validBefore: 10);

        Assert.True(cache.TryGet("Fe26.2**seal", 9, out SessionUser user));
        Assert.Equal(TestSessions.Ada, user);
        Assert.False(cache.TryGet("Fe26.2**seal", 10, out _));
        Assert.False(cache.TryGet("Fe26.2**seal", 9, out _));
        Assert.False(cache.TryGet("Fe26.2**seaL", 0, out _));
    }

    [Fact]
    public void The_cache_stays_bounded()
    {
        var cache = new SessionCache();
        for (int i = 0; i < SessionCache.MaxEntries + 100; i++)
        {
            cache.Add($"Fe26.2**seal-{i}", TestSessions.Ada, long.MaxValue);
        }

        Assert.InRange(cache.Count, 1, SessionCache.MaxEntries);
        Assert.True(cache.TryGet($"Fe26.2**seal-{SessionCache.MaxEntries + 99}", 0, out _));
    }
}
