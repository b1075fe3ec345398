using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>How long SIGTERM waits for requests in flight is configuration, checked against how long a create may wait (the SIGTERM test shows the waiting itself).</summary>
public sealed class ShutdownConfigurationTests
{
    [Fact]
    public void Waits_25_seconds_by_default_less_than_a_kubernetes_grace_period()
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?> { ["Database:CreateTimeoutSeconds"] = "5" });

        Assert.Equal(TimeSpan.FromSeconds(25), factory.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void HostOptions_ShutdownTimeout_sets_it()
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?>
        {
            ["HostOptions:ShutdownTimeout"] = "00:00:07",
            ["Database:CreateTimeoutSeconds"] = "5",
        });

        Assert.Equal(TimeSpan.FromSeconds(7), factory.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("4300000")]
    public void Refuses_to_start_with_a_create_timeout_that_is_not_a_few_minutes_at_most(string seconds)
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?> { ["Database:CreateTimeoutSeconds"] = seconds });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.Server);

        Assert.Contains("Database:CreateTimeoutSeconds must be a number of seconds above 0 and at most 300", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_to_start_with_the_create_timeout_under_its_old_name()
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?> { ["Database:RequestTimeoutSeconds"] = "5" });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.Server);

        Assert.Contains("Database:RequestTimeoutSeconds is now Database:CreateTimeoutSeconds.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_to_start_with_a_shutdown_shorter_than_a_create_may_wait()
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?>
        {
            ["HostOptions:ShutdownTimeout"] = "00:00:25",
            ["Database:CreateTimeoutSeconds"] = "24",
        });

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.Server);

        Assert.Contains("HostOptions:ShutdownTimeout must be at least Database:CreateTimeoutSeconds plus 1.5 s", error.Message, StringComparison.Ordinal);
    }
}
