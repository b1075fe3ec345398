using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>The service refuses to start without a session secret it can trust: long enough, and not visibly guessable.</summary>
public sealed class StartupConfigurationTests
{
    [Theory]
    [InlineData("")]
    [InlineData("only-31-characters-long-0123456")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("abcdefghijklmabcdefghijklmabcdefghijklm")]
    [InlineData("neptun-neptun-neptun-neptun-neptun-neptun")]
    public void Refuses_to_start_without_a_long_enough_session_password(string password)
    {
        using var factory = new ChatServiceFactory(UnreachableDatabase.ConnectionString, new Dictionary<string, string?>
        {
            ["Database:MigrateOnStartup"] = "false",
            ["NUXT_SESSION_PASSWORD"] = password,
            ["Session:Password"] = password,
        });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.Server);

        Assert.Contains("NUXT_SESSION_PASSWORD", error.Message, StringComparison.Ordinal);
        if (password.Length > 0)
        {
            Assert.DoesNotContain(password, error.Message, StringComparison.Ordinal);
        }
    }
}
