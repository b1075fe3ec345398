using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>How long SIGTERM waits for requests in flight is configuration (the SIGTERM test shows the waiting itself).</summary>
public sealed class ShutdownConfigurationTests
{
    [Fact]
    public void Waits_25_seconds_by_default_less_than_a_kubernetes_grace_period()
    {
        using var factory = UnreachableDatabase.CreateFactory();

        Assert.Equal(TimeSpan.FromSeconds(25), factory.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void HostOptions_ShutdownTimeout_sets_it()
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?> { ["HostOptions:ShutdownTimeout"] = "00:00:07" });

        Assert.Equal(TimeSpan.FromSeconds(7), factory.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }
}
