namespace Neptun.Session.Tests;

public sealed class SessionReaderTests
{
    private static readonly string s_adaSeal = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now);

    [Fact]
    public void Sealed_session_reads_back()
    {
        SessionReadResult result = TestSessions.Reader().Read(null, TestSessions.Cookie(s_adaSeal));

        Assert.Equal(new SessionReadResult(TestSessions.Ada, SessionRejection.None), result);
        Assert.True(result.User is not null);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a+b\"c'd<e>&f@example.com")]
    [InlineData("\u00E9l\u00E8ve\U0001F600@example.com")]
    public void Email_reads_back_as_sealed(string? email)
    {
        var user = new SessionUser(int.MaxValue, email);

        SessionReadResult result = TestSessions.Reader().Unseal(IronSealer.SealSession(user, TestSessions.Password, TestSessions.Now));

        Assert.Equal(user, result.User);
    }

    [Fact]
    public void Seal_under_a_password_id_reads_back_with_that_password()
    {
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.RotatedPassword, TestSessions.Now, TestSessions.RotatedId);

        Assert.StartsWith($"Fe26.2*{TestSessions.RotatedId}*", seal, StringComparison.Ordinal);
        Assert.Equal(TestSessions.Ada, TestSessions.Reader().Unseal(seal).User);
    }

    [Fact]
    public void Seal_under_an_unknown_password_id_is_rejected()
    {
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.RotatedPassword, TestSessions.Now, "k3");

        Assert.Equal(SessionRejection.UnknownPasswordId, TestSessions.Reader().Unseal(seal).Rejection);
    }

    [Fact]
    public void Seal_with_another_password_fails_the_mac()
    {
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.RotatedPassword, TestSessions.Now);

        Assert.Equal(SessionRejection.BadMac, TestSessions.Reader().Unseal(seal).Rejection);
    }

    [Fact]
    public void Seal_has_iron_shape()
    {
        DateTimeOffset expiration = TestSessions.Now.AddHours(1);

        string[] parts = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now, expiration: expiration).Split('*');

        Assert.Equal(8, parts.Length);
        Assert.Equal("Fe26.2", parts[0]);
        Assert.Equal("", parts[1]);
        Assert.Matches("^[0-9a-f]{64}$", parts[2]);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", parts[3]);
        Assert.Matches("^[A-Za-z0-9_-]+$", parts[4]);
        Assert.Equal(expiration.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), parts[5]);
        Assert.Matches("^[0-9a-f]{64}$", parts[6]);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", parts[7]);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(59_000, true)]
    [InlineData(59_999, true)]
    [InlineData(60_000, false)]
    [InlineData(61_000, false)]
    public void Expiration_is_honoured_with_sixty_seconds_of_skew(int millisecondsPastExpiration, bool accepted)
    {
        DateTimeOffset expiration = TestSessions.Now;
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now, expiration: expiration);
        var clock = new ManualTimeProvider(expiration.AddMilliseconds(millisecondsPastExpiration));

        SessionReadResult result = TestSessions.Reader(clock).Unseal(seal);

        Assert.Equal(accepted ? new SessionReadResult(TestSessions.Ada, SessionRejection.None) : new SessionReadResult(null, SessionRejection.Expired), result);
    }

    [Theory]
    [InlineData("12a")]
    [InlineData("-1")]
    [InlineData(" 1")]
    [InlineData("1e20")]
    public void Expiration_that_is_not_all_digits_is_malformed(string expiration)
    {
        string[] parts = s_adaSeal.Split('*');
        parts[5] = expiration;

        Assert.Equal(SessionRejection.Malformed, TestSessions.Reader().Unseal(string.Join('*', parts)).Rejection);
    }

    [Fact]
    public void Expiration_past_the_range_of_long_is_far_future()
    {
        string macInput = string.Join('*', s_adaSeal.Split('*')[..5]) + "*" + new string('9', 40);

        Assert.True(TestSessions.Reader().Unseal(IronSealer.Sign(macInput, TestSessions.Password)).User is not null);
    }

    [Fact]
    public void Max_age_counts_from_created_at()
    {
        DateTimeOffset createdAt = TestSessions.Now.AddHours(-1);
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, createdAt);
        var clock = new ManualTimeProvider(createdAt.AddSeconds(3600));
        SessionReader reader = TestSessions.Reader(clock, maxAgeSeconds: 3600);

        Assert.Equal(TestSessions.Ada, reader.Unseal(seal).User);

        clock.Now = createdAt.AddSeconds(3600).AddMilliseconds(1);
        Assert.Equal(new SessionReadResult(null, SessionRejection.TooOld), reader.Unseal(seal));
    }

    [Fact]
    public void Max_age_is_off_unless_set()
    {
        string seal = IronSealer.SealSession(TestSessions.Ada, TestSessions.Password, TestSessions.Now.AddYears(-5));

        Assert.True(TestSessions.Reader().Unseal(seal).User is not null);
    }

    [Theory]
    [InlineData("""{"data":{"user":{"id":123}}}""")]
    [InlineData("""{"createdAt":0,"data":{"user":{"id":123}}}""")]
    [InlineData("""{"createdAt":"1795690220718","data":{"user":{"id":123}}}""")]
    public void Max_age_rejects_a_session_without_a_usable_created_at(string json)
    {
        string seal = IronSealer.Seal(json, TestSessions.Password);

        Assert.Equal(SessionRejection.TooOld, TestSessions.Reader(maxAgeSeconds: 3600).Unseal(seal).Rejection);
        Assert.True(TestSessions.Reader().Unseal(seal).User is not null);
    }

    [Fact]
    public void Max_age_treats_a_zero_created_at_as_missing_even_near_the_epoch()
    {
        string seal = IronSealer.Seal("""{"createdAt":0,"data":{"user":{"id":123}}}""", TestSessions.Password);
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch.AddSeconds(10));

        Assert.Equal(SessionRejection.TooOld, TestSessions.Reader(clock, maxAgeSeconds: 3600).Unseal(seal).Rejection);
    }

    [Fact]
    public void Max_age_takes_precedence_over_a_missing_user()
    {
        string seal = IronSealer.Seal("""{"createdAt":1,"data":{}}""", TestSessions.Password);

        Assert.Equal(SessionRejection.TooOld, TestSessions.Reader(maxAgeSeconds: 60).Unseal(seal).Rejection);
    }

    [Theory]
    [InlineData("""{"data":{"user":{"id":7}}}""", 7)]
    [InlineData("""{"data":{"user":{"id":7.0}}}""", 7)]
    [InlineData("""{"data":{"user":{"id":7e0}}}""", 7)]
    [InlineData("""{"data":{"user":{"id":2147483647}}}""", int.MaxValue)]
    [InlineData("""{"data":{"user":{"id":1,"id":7}}}""", 7)]
    [InlineData("""{"data":{},"data":{"user":{"id":7}}}""", 7)]
    [InlineData("""{"data":{"user":null,"user":{"id":7}}}""", 7)]
    [InlineData(""" { "extra" : [1, {"user": {"id": 1}}], "data" : { "user" : { "name": {"id": 1}, "id" : 7 } } } """, 7)]
    [InlineData("""{"data":{"user":{"\u0069d":7}}}""", 7)]
    public void User_id_is_read_like_a_js_number(string json, int id)
    {
        SessionReadResult result = TestSessions.Reader().Unseal(IronSealer.Seal(json, TestSessions.Password));

        Assert.Equal(new SessionUser(id, null), result.User);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("7")]
    [InlineData("{}")]
    [InlineData("""{"data":null}""")]
    [InlineData("""{"data":{"user":{"id":7}},"data":{}}""")]
    [InlineData("""{"data":{"user":{"id":7},"user":null}}""")]
    [InlineData("""{"data":{"user":null}}""")]
    [InlineData("""{"data":{"user":true}}""")]
    [InlineData("""{"data":{"user":{}}}""")]
    [InlineData("""{"data":{"user":{"primary_email":"x@example.com"}}}""")]
    [InlineData("""{"data":{"user":{"id":0}}}""")]
    [InlineData("""{"data":{"user":{"id":-7}}}""")]
    [InlineData("""{"data":{"user":{"id":7.5}}}""")]
    [InlineData("""{"data":{"user":{"id":2147483648}}}""")]
    [InlineData("""{"data":{"user":{"id":"7"}}}""")]
    [InlineData("""{"data":{"user":{"id":null}}}""")]
    [InlineData("""{"user":{"id":7}}""")]
    public void Session_without_a_valid_user_is_not_logged_in(string json)
    {
        SessionReadResult result = TestSessions.Reader().Unseal(IronSealer.Seal(json, TestSessions.Password));

        Assert.Equal(new SessionReadResult(null, SessionRejection.NoUser), result);
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("not json")]
    [InlineData("{")]
    [InlineData("""{"data":{"user":{"id":7}}} x""")]
    [InlineData("""{"data":{"user":{"id":7}}}{}""")]
    [InlineData("""{"data":{"user":{"id":7}},}""")]
    [InlineData("""{"data":{"user":{"id":7}}} // note""")]
    [InlineData("""{'data':{}}""")]
    public void Plaintext_that_is_not_json_is_undecryptable(string plaintext)
    {
        SessionReadResult result = TestSessions.Reader().Unseal(IronSealer.Seal(plaintext, TestSessions.Password));

        Assert.Equal(new SessionReadResult(null, SessionRejection.Undecryptable), result);
    }

    [Fact]
    public void A_changed_character_in_any_part_is_rejected()
    {
        string seal = IronSealer.SealSession(
            TestSessions.Ada, TestSessions.RotatedPassword, TestSessions.Now, TestSessions.RotatedId, new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero));
        SessionReader reader = TestSessions.Reader();
        SessionRejection[] expected =
        [
            SessionRejection.Malformed, SessionRejection.UnknownPasswordId, SessionRejection.BadMac, SessionRejection.BadMac,
            SessionRejection.BadMac, SessionRejection.BadMac, SessionRejection.BadMac, SessionRejection.BadMac,
        ];
        Assert.True(reader.Unseal(seal).User is not null);

        string[] parts = seal.Split('*');
        for (int part = 0; part < parts.Length; part++)
        {
            string[] tampered = (string[])parts.Clone();
            char[] chars = tampered[part].ToCharArray();
            int middle = chars.Length / 2;
            chars[middle] = chars[middle] == '1' ? '2' : '1';
            tampered[part] = new string(chars);

            Assert.Equal(new SessionReadResult(null, expected[part]), reader.Unseal(string.Join('*', tampered)));
        }
    }

    [Theory]
    [InlineData(3, "AAAAAAAAAAAAAAAAAAAA")]           // 15 bytes: not an AES block's worth of iv
    [InlineData(3, "AAAAAAAAAAAAAAAAAAAAAAAA")]       // 18 bytes
    [InlineData(3, "!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData(4, "")]
    [InlineData(4, "AAAAAAAAAAAAAAAAAAAA")]           // 15 bytes: not whole blocks
    [InlineData(4, "AAAAAAAAAAAAAAAAAAAAAA")]         // one block that does not unpad
    [InlineData(4, "A*A")]
    [InlineData(4, "@@@@")]
    public void Broken_iv_or_ciphertext_behind_a_valid_mac_is_undecryptable(int part, string value)
    {
        string[] parts = s_adaSeal.Split('*')[..6];
        parts[part] = value;
        string seal = IronSealer.Sign(string.Join('*', parts), TestSessions.Password);
        SessionRejection expected = value.Contains('*') ? SessionRejection.Malformed : SessionRejection.Undecryptable;

        Assert.Equal(new SessionReadResult(null, expected), TestSessions.Reader().Unseal(seal));
    }

    [Fact]
    public void Seal_longer_than_node_would_take_is_malformed()
    {
        string[] parts = s_adaSeal.Split('*')[..6];
        parts[4] = new string('A', 20_000);

        Assert.Equal(SessionRejection.Malformed, TestSessions.Reader().Unseal(IronSealer.Sign(string.Join('*', parts), TestSessions.Password)).Rejection);
    }

    [Fact]
    public void Header_wins_over_the_cookie()
    {
        string bob = IronSealer.SealSession(new SessionUser(7, "bob@example.com"), TestSessions.Password, TestSessions.Now);

        SessionReadResult result = TestSessions.Reader().Read(bob, TestSessions.Cookie(s_adaSeal));

        Assert.Equal(7, result.User?.Id);
    }

    [Fact]
    public void Bad_header_does_not_fall_back_to_the_cookie()
    {
        SessionReadResult result = TestSessions.Reader().Read("Fe26.2*nonsense", TestSessions.Cookie(s_adaSeal));

        Assert.Equal(new SessionReadResult(null, SessionRejection.Malformed), result);
    }

    [Fact]
    public void Empty_header_falls_back_to_the_cookie()
    {
        Assert.Equal(TestSessions.Ada, TestSessions.Reader().Read("", TestSessions.Cookie(s_adaSeal)).User);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("theme=dark")]
    [InlineData("neptun-session=")]
    [InlineData("neptun-session=\"\"")]
    [InlineData("neptun-session2=x; xneptun-session=y")]
    public void Nothing_to_read_is_missing(string? cookieHeader)
    {
        Assert.Equal(new SessionReadResult(null, SessionRejection.Missing), TestSessions.Reader().Read(null, cookieHeader));
    }

    [Theory]
    [InlineData("theme=dark; neptun-session={0}; _ga=1")]
    [InlineData("neptun-session=\"{0}\"")]
    [InlineData("  neptun-session  =  {0}  ")]
    [InlineData("flag; neptun-session={0}")]
    [InlineData("neptun-session={0}; neptun-session=Fe26.2*bad")]
    public void Cookie_is_found_as_the_web_app_finds_it(string format)
    {
        string header = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, s_adaSeal);

        Assert.Equal(TestSessions.Ada, TestSessions.Reader().Read(null, header).User);
    }

    [Fact]
    public void Percent_encoded_cookie_is_decoded_before_unsealing()
    {
        string encoded = s_adaSeal.Replace("*", "%2A", StringComparison.Ordinal);

        Assert.Equal(TestSessions.Ada, TestSessions.Reader().Read(null, TestSessions.Cookie(encoded)).User);
    }

    [Fact]
    public void Later_cookie_of_the_same_name_is_ignored()
    {
        SessionReadResult result = TestSessions.Reader().Read(null, $"neptun-session=Fe26.2*bad; {TestSessions.Cookie(s_adaSeal)}");

        Assert.Equal(SessionRejection.Malformed, result.Rejection);
    }
}
