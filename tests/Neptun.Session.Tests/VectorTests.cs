using System.Text.Json;

namespace Neptun.Session.Tests;

public sealed class VectorTests
{
    [Theory]
    [MemberData(nameof(SessionVectors.CaseNames), MemberType = typeof(SessionVectors))]
    public void Cookie_gives_what_the_vector_expects(string name)
    {
        SessionReadResult result = VectorReader(withRotatedPasswords: true).Read(null, SessionVectors.CookieHeader(name));

        AssertExpected(name, result);
    }

    [Theory]
    [MemberData(nameof(SessionVectors.CaseNames), MemberType = typeof(SessionVectors))]
    public void Seal_sent_in_the_header_gives_the_same(string name)
    {
        string? seal = CookieValue.Find(SessionVectors.CookieHeader(name), SessionReaderOptions.CookieName);

        SessionReadResult result = VectorReader(withRotatedPasswords: true).Read(seal, cookieHeader: null);

        AssertExpected(name, result);
    }

    [Fact]
    public void Rotated_seal_is_rejected_where_its_password_id_is_unknown()
    {
        SessionReadResult result = VectorReader(withRotatedPasswords: false).Read(null, SessionVectors.CookieHeader(SessionVectors.RotatedCase));

        Assert.Equal(new SessionReadResult(null, SessionRejection.UnknownPasswordId), result);
    }

    [Fact]
    public void Rotated_seal_is_rejected_where_its_id_maps_to_another_password()
    {
        var reader = new SessionReader(
            new SessionReaderOptions
            {
                Password = SessionVectors.Password,
                Passwords = new() { ["k2"] = SessionVectors.Password },
            },
            new ManualTimeProvider(DateTimeOffset.UtcNow));

        SessionReadResult result = reader.Read(null, SessionVectors.CookieHeader(SessionVectors.RotatedCase));

        Assert.Equal(SessionRejection.BadMac, result.Rejection);
    }

    private static SessionReader VectorReader(bool withRotatedPasswords) =>
        new(
            new SessionReaderOptions
            {
                Password = SessionVectors.Password,
                Passwords = withRotatedPasswords ? SessionVectors.PasswordsById : [],
            },
            new ManualTimeProvider(DateTimeOffset.UtcNow));

    private static void AssertExpected(string name, SessionReadResult result)
    {
        JsonElement expect = SessionVectors.Case(name).GetProperty("expect");
        if (expect.GetProperty("authenticated").GetBoolean())
        {
            Assert.Equal(
                new SessionReadResult(
                    new SessionUser(expect.GetProperty("userId").GetInt32(), expect.GetProperty("primaryEmail").GetString()),
                    SessionRejection.None),
                result);
        }
        else
        {
            Assert.Null(result.User);
            Assert.NotEqual(SessionRejection.None, result.Rejection);
        }
    }
}
