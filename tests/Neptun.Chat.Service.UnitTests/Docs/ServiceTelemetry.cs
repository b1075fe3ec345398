using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Neptun.Chat.Service.Database;

namespace Neptun.Chat.Service.UnitTests.Docs;

/// <summary>What the code says about its telemetry: the log messages with their event ids, and the Prometheus names of its metrics.</summary>
internal static partial class ServiceTelemetry
{
    /// <summary>Every source-generated log message of the service (the internal <c>Log</c> class and any other), by event id.</summary>
    public static IReadOnlyList<(int EventId, string Message)> LogMessages { get; } = typeof(DatabaseOptions).Assembly.GetTypes()
        .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        .Select(method => method.GetCustomAttribute<LoggerMessageAttribute>())
        .OfType<LoggerMessageAttribute>()
        .Select(attribute => (attribute.EventId, attribute.Message))
        .ToList();

    /// <summary>
    /// The names Prometheus scrapes for the instruments the code creates (<c>Meter.Create*("name", unit: ...)</c>
    /// in src/), as OpenTelemetry's exporter writes them: dots to underscores, the unit's suffix, <c>_total</c>
    /// for counters, and a histogram's <c>_bucket</c>, <c>_sum</c> and <c>_count</c>.
    /// </summary>
    public static IReadOnlySet<string> PrometheusNames { get; } = FindPrometheusNames();

    /// <summary>Names that start with <c>neptun_</c> but are the database's (tables, columns, the service's schema), not metrics.</summary>
    public static IReadOnlySet<string> DatabaseNames { get; } = Directory
        .GetFiles(Path.Combine(DocPages.RepositoryRoot, "src"), "*.sql", SearchOption.AllDirectories)
        .SelectMany(file => NeptunIdentifier().Matches(File.ReadAllText(file)).Select(match => match.Value))
        .Append(DatabaseMigrator.ServiceSchema)
        .ToHashSet();

    /// <summary>A pattern that finds the message in flattened doc text, its placeholders standing for any text; null when too little of it is fixed text to tell it apart.</summary>
    public static Regex? MessagePattern(string message)
    {
        var parts = Placeholder().Split(message).Select(part => part.Trim()).ToArray();
        var fixedText = string.Join(' ', parts.Where(part => part.Length > 0));
        if (fixedText.Length < 12)
        {
            return null;
        }

        // Leading and trailing placeholders are left out: the fixed text between them places the message.
        var first = Array.FindIndex(parts, part => part.Length > 0);
        var last = Array.FindLastIndex(parts, part => part.Length > 0);
        var pattern = string.Join(@"\s?.{1,200}?\s?", parts[first..(last + 1)].Select(Regex.Escape));
        return new Regex(pattern, RegexOptions.Singleline);
    }

    private static HashSet<string> FindPrometheusNames()
    {
        var names = new HashSet<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(DocPages.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match instrument in InstrumentCreation().Matches(File.ReadAllText(file)))
            {
                var kind = instrument.Groups["kind"].Value;
                var unit = UnitArgument().Match(instrument.Groups["rest"].Value) is { Success: true } u ? u.Groups[1].Value : "";
                var name = instrument.Groups["name"].Value.Replace('.', '_') + UnitSuffix(unit, instrument.Groups["name"].Value);
                if (kind.EndsWith("Counter", StringComparison.Ordinal) && !kind.Contains("UpDown", StringComparison.Ordinal))
                {
                    name += "_total";
                }

                names.Add(name);
                if (kind == "Histogram")
                {
                    names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
                }
            }
        }

        return names;
    }

    // Annotations in braces ({create}) add nothing; the rest as OpenTelemetry's Prometheus exporter spells them.
    private static string UnitSuffix(string unit, string instrument) => unit switch
    {
        "" => "",
        _ when unit.StartsWith('{') => "",
        "s" => "_seconds",
        "ms" => "_milliseconds",
        "By" => "_bytes",
        _ => throw new InvalidOperationException($"The docs test does not know how Prometheus names the unit '{unit}' of {instrument}: teach it (ServiceTelemetry.UnitSuffix)."),
    };

    [GeneratedRegex("""\.Create(?<kind>Counter|Histogram|UpDownCounter|Gauge|ObservableCounter|ObservableGauge|ObservableUpDownCounter)(?:<[^>]+>)?\(\s*"(?<name>[^"]+)"(?<rest>.*?)\);""", RegexOptions.Singleline)]
    private static partial Regex InstrumentCreation();

    [GeneratedRegex("""unit:\s*"([^"]*)"(?=[,)\s])""")]
    private static partial Regex UnitArgument();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\bneptun_\w+")]
    private static partial Regex NeptunIdentifier();
}
