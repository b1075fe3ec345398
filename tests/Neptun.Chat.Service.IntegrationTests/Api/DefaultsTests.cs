using System.Text.Json;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// Each default is written once, in its options class or its registration; appsettings.json holds
/// only what a deployment sets differently (endpoints, logging, hosts).
/// </summary>
public sealed class DefaultsTests
{
    private const long DefaultBodyLimit = 64 * 1024;

    [Fact]
    public void Appsettings_holds_no_option_default()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Find("src/Neptun.Chat.Service/appsettings.json")));

        var sections = settings.RootElement.EnumerateObject().Select(section => section.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["AllowedHosts", "Kestrel", "Logging"], sections);
        Assert.Equal(["Endpoints"], settings.RootElement.GetProperty("Kestrel").EnumerateObject().Select(section => section.Name));
    }

    [Fact]
    public void The_body_limit_is_64_KiB_for_kestrel_and_for_native_grpc_messages()
    {
        using var factory = UnreachableDatabase.CreateFactory();

        var (kestrel, grpc) = BodyLimits(factory);

        Assert.Equal(DefaultBodyLimit, kestrel);
        Assert.Equal(DefaultBodyLimit, grpc);
    }

    [Fact]
    public void One_setting_moves_the_body_limit_everywhere()
    {
        using var factory = UnreachableDatabase.CreateFactory(new Dictionary<string, string?> { ["Kestrel:Limits:MaxRequestBodySize"] = "4096" });

        var (kestrel, grpc) = BodyLimits(factory);

        Assert.Equal(4096, kestrel);
        Assert.Equal(4096, grpc);
    }

    private static (long? Kestrel, long? Grpc) BodyLimits(ChatServiceFactory factory) =>
        (factory.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxRequestBodySize,
         factory.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize);
}
