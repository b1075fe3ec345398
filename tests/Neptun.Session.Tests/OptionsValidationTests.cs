namespace Neptun.Session.Tests;

public sealed class OptionsValidationTests
{
    private const string ShortPassword = "short-secret-of-31-characters!!";

    [Fact]
    public void Short_password_is_refused_without_showing_it()
    {
        Assert.Equal(31, ShortPassword.Length);

        var e = Assert.Throws<ArgumentException>(() => new SessionReader(new SessionReaderOptions { Password = ShortPassword }, TimeProvider.System));

        Assert.DoesNotContain(ShortPassword, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ShortPassword, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Short_extra_password_is_refused_without_showing_any_password()
    {
        var options = new SessionReaderOptions { Password = TestSessions.Password, Passwords = new() { ["old"] = ShortPassword } };

        var e = Assert.Throws<ArgumentException>(() => new SessionReader(options, TimeProvider.System));

        Assert.DoesNotContain(ShortPassword, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestSessions.Password, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    public void Missing_or_empty_password_is_refused(string password)
    {
        Assert.Throws<ArgumentException>(() => new SessionReader(new SessionReaderOptions { Password = password }, TimeProvider.System));
    }

    [Fact]
    public void Extra_password_under_an_empty_id_is_refused()
    {
        var options = new SessionReaderOptions { Password = TestSessions.Password, Passwords = new() { [""] = TestSessions.RotatedPassword } };

        Assert.Throws<ArgumentException>(() => new SessionReader(options, TimeProvider.System));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Max_age_that_is_not_positive_is_refused(int maxAgeSeconds)
    {
        var options = new SessionReaderOptions { Password = TestSessions.Password, MaxAgeSeconds = maxAgeSeconds };

        Assert.Throws<ArgumentException>(() => new SessionReader(options, TimeProvider.System));
    }

    [Fact]
    public void Password_of_exactly_32_characters_is_enough()
    {
        string password = new('p', 32);
        var reader = new SessionReader(new SessionReaderOptions { Password = password }, TimeProvider.System);

        Assert.True(reader.Unseal(IronSealer.SealSession(TestSessions.Ada, password, DateTimeOffset.UtcNow)).User is not null);
        Assert.DoesNotContain(password, reader.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sealer_refuses_a_short_password_without_showing_it()
    {
        var e = Assert.Throws<ArgumentException>(() => IronSealer.Seal("{}", ShortPassword));

        Assert.DoesNotContain(ShortPassword, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k-2")]
    [InlineData("k*2")]
    [InlineData("k\u00E9")]
    public void Sealer_refuses_a_password_id_iron_would_refuse(string passwordId)
    {
        Assert.Throws<ArgumentException>(() => IronSealer.Seal("{}", TestSessions.Password, passwordId));
    }
}
