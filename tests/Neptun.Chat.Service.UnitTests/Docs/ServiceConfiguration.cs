using System.Collections;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Hosting;
using Neptun.Chat.Service.Idempotency;
using Neptun.Chat.Service.Limits;
using Neptun.Chat.Service.Session;
using Neptun.Chat.Service.Telemetry;
using Neptun.Session;

namespace Neptun.Chat.Service.UnitTests.Docs;

/// <summary>
/// What the code says about the service's configuration: which environment variables it reads,
/// the options class behind each section, their defaults as the service's own registrations make
/// them, and the Kestrel endpoints of appsettings.json.
/// </summary>
internal static partial class ServiceConfiguration
{
    /// <summary>
    /// Variables outside the options sections, each with the code constant that names it where the
    /// service has one (null: read by ASP.NET Core or OpenTelemetry themselves, not named in our code).
    /// </summary>
    public static IReadOnlyDictionary<string, string?> FixedVariables { get; } = new Dictionary<string, string?>
    {
        ["DATABASE_CONNECTION_STRING"] = DatabaseOptions.ConnectionStringVariable,
        ["NUXT_SESSION_PASSWORD"] = NeptunSessionServiceCollectionExtensions.PasswordVariable,
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = PrivateConstant(typeof(TelemetryExtensions), "OtlpEndpointVariable"),
        ["OTEL_TRACES_SAMPLER"] = PrivateConstant(typeof(TelemetryExtensions), "SamplerVariable"),
        ["OTEL_SDK_DISABLED"] = null,
        ["ASPNETCORE_ENVIRONMENT"] = null,
        ["ASPNETCORE_HTTP_PORTS"] = null,
    };

    /// <summary>The prefixes of variables that must be one of <see cref="FixedVariables"/>.</summary>
    public static IReadOnlyList<string> FixedVariablePrefixes { get; } = ["DATABASE_", "NUXT_", "OTEL_", "ASPNETCORE_"];

    /// <summary>Options classes by the section they are bound from, found where the code binds them (<c>AddOptions&lt;T&gt;()...BindConfiguration(section)</c>).</summary>
    public static IReadOnlyDictionary<string, Type> Sections { get; } = FindSections();

    /// <summary>Kestrel's endpoints in src/Neptun.Chat.Service/appsettings.json: name, then each setting (Url, Protocols).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> KestrelEndpoints { get; } = ReadKestrelEndpoints();

    /// <summary>The port of each Kestrel endpoint of appsettings.json.</summary>
    public static IReadOnlyDictionary<string, int> EndpointPorts { get; } =
        KestrelEndpoints.ToDictionary(endpoint => endpoint.Key, endpoint => new Uri(endpoint.Value["Url"].Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port);

    /// <summary>The ports the Dockerfile's EXPOSE names.</summary>
    public static IReadOnlySet<int> ExposedPorts { get; } = ExposeLine().Matches(DocPages.ReadRepositoryFile("Dockerfile"))
        .SelectMany(match => match.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(int.Parse).ToHashSet();

    private static readonly Lazy<IServiceProvider> Defaults = new(BuildDefaults);

    /// <summary>
    /// Why a <c>Section__Key[__Key...]</c> variable names no setting of the service, or null when it
    /// names one. <c>&lt;id&gt;</c>-style placeholders stand for any key of a collection.
    /// </summary>
    public static string? WhyUnknown(string variable)
    {
        var keys = variable.Split("__");
        switch (keys[0])
        {
            case "Kestrel" when keys.Length >= 2 && keys[1] == "Limits":
                return WhyUnknownProperty(typeof(KestrelServerLimits), keys[2..], variable);
            case "Kestrel" when keys.Length == 4 && keys[1] == "Endpoints":
                return KestrelEndpoints.TryGetValue(keys[2], out var endpoint)
                    ? endpoint.ContainsKey(keys[3]) ? null : $"appsettings.json's Kestrel endpoint {keys[2]} has no {keys[3]}"
                    : $"appsettings.json has no Kestrel endpoint {keys[2]} (it has {string.Join(", ", KestrelEndpoints.Keys)})";
            case "ForwardedHeaders":
                return keys.Length == 3 && string.Join(':', keys[..2]) == AnonymousRateLimiting.TrustedProxiesKey && IsCollectionKey(keys[2])
                    ? null
                    : $"the trusted proxies' networks are {AnonymousRateLimiting.TrustedProxiesKey.Replace(":", "__", StringComparison.Ordinal)}__<n>";
            default:
                return Sections.TryGetValue(keys[0], out var options)
                    ? WhyUnknownProperty(options, keys[1..], variable)
                    : $"no options class is bound from a section {keys[0]} (sections: {string.Join(", ", Sections.Keys.Order(StringComparer.Ordinal))})";
        }
    }

    /// <summary>The value a variable's setting has when nothing sets it: the options as the service's own registrations make them, or appsettings.json's endpoints.</summary>
    public static object? DefaultOf(string variable)
    {
        var keys = variable.Split("__");
        if (keys is ["Kestrel", "Endpoints", var name, var setting])
        {
            return KestrelEndpoints[name][setting];
        }

        object? value = keys is ["Kestrel", "Limits", ..]
            ? OptionsValue(typeof(KestrelServerOptions)) is KestrelServerOptions kestrel ? kestrel.Limits : null
            : OptionsValue(Sections[keys[0]]);
        foreach (var key in keys[(keys[0] == "Kestrel" ? 2 : 1)..])
        {
            // A collection's keys (Session__Passwords__<id>) are the operator's: its default is the collection.
            if (value is IEnumerable and not string)
            {
                break;
            }

            value = value?.GetType().GetProperty(key, BindingFlags.Public | BindingFlags.Instance)?.GetValue(value);
        }

        return value;
    }

    private static string? WhyUnknownProperty(Type type, string[] keys, string variable)
    {
        if (keys.Length == 0)
        {
            return $"{variable} names a whole section, not a setting";
        }

        var property = type.GetProperty(keys[0], BindingFlags.Public | BindingFlags.Instance);
        if (property is null)
        {
            return $"{type.FullName} has no property {keys[0]}";
        }

        if (keys.Length == 1)
        {
            return null;
        }

        if (property.PropertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(property.PropertyType))
        {
            return keys.Length == 2 ? null : $"{type.Name}.{keys[0]} is a collection: one key after it, not {keys.Length - 1}";
        }

        return property.PropertyType.IsClass && property.PropertyType != typeof(string)
            ? WhyUnknownProperty(property.PropertyType, keys[1..], variable)
            : $"{type.Name}.{keys[0]} is a value; {variable} goes past it";
    }

    private static bool IsCollectionKey(string key) => key.StartsWith('<') || key.All(char.IsAsciiDigit);

    private static object? OptionsValue(Type optionsType) =>
        typeof(IOptions<>).MakeGenericType(optionsType).GetProperty(nameof(IOptions<object>.Value))!
            .GetValue(Defaults.Value.GetRequiredService(typeof(IOptions<>).MakeGenericType(optionsType)));

    /// <summary>The service's own registrations of its options, with nothing configured but the secret its validation requires.</summary>
    private static ServiceProvider BuildDefaults()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [NeptunSessionServiceCollectionExtensions.PasswordVariable] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddNeptunDatabase();
        services.AddNeptunIdempotency();
        services.AddNeptunSession();
        services.AddNeptunRequestLimits();
        services.AddNeptunGracefulShutdown();
        return services.BuildServiceProvider();
    }

    private static Dictionary<string, Type> FindSections()
    {
        var assemblies = new[] { typeof(DatabaseOptions).Assembly, typeof(SessionReaderOptions).Assembly, typeof(HostOptions).Assembly, typeof(SocketTransportOptions).Assembly };
        var sections = new Dictionary<string, Type>();
        foreach (var file in Directory.GetFiles(Path.Combine(DocPages.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match binding in OptionsBinding().Matches(File.ReadAllText(file)))
            {
                var type = FindType(assemblies, binding.Groups["type"].Value);
                var section = binding.Groups["section"].Value is var argument && argument.StartsWith('"')
                    ? argument.Trim('"')
                    : (string)FindType(assemblies, argument.Split('.')[0]).GetField(argument.Split('.')[1])!.GetRawConstantValue()!;
                sections.Add(section, type);
            }
        }

        return sections;
    }

    private static Type FindType(IEnumerable<Assembly> assemblies, string name) =>
        assemblies.SelectMany(assembly => assembly.GetTypes()).Where(type => type.Name == name).Distinct().ToList() is [var type]
            ? type
            : throw new InvalidOperationException($"The docs test finds no single options class named {name} in the service, Neptun.Session, Microsoft.Extensions.Hosting or Kestrel's socket transport.");

    private static Dictionary<string, IReadOnlyDictionary<string, string>> ReadKestrelEndpoints()
    {
        using var settings = JsonDocument.Parse(DocPages.ReadRepositoryFile("src/Neptun.Chat.Service/appsettings.json"));
        return settings.RootElement.GetProperty("Kestrel").GetProperty("Endpoints").EnumerateObject().ToDictionary(
            endpoint => endpoint.Name,
            endpoint => (IReadOnlyDictionary<string, string>)endpoint.Value.EnumerateObject().ToDictionary(setting => setting.Name, setting => setting.Value.GetString()!));
    }

    private static string PrivateConstant(Type type, string name) =>
        (string)(type.GetField(name, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue()
            ?? throw new InvalidOperationException($"{type.FullName}.{name} is gone: say in the docs test which constant names this variable now."));

    // AddOptions<T>() and the BindConfiguration(section) of the same chain, with no other AddOptions between.
    [GeneratedRegex("""AddOptions<(?<type>\w+)>\(\)(?:(?!AddOptions<).)*?\.BindConfiguration\((?<section>[^)]+)\)""", RegexOptions.Singleline)]
    private static partial Regex OptionsBinding();

    [GeneratedRegex("^EXPOSE ([0-9 ]+)$", RegexOptions.Multiline)]
    private static partial Regex ExposeLine();
}
