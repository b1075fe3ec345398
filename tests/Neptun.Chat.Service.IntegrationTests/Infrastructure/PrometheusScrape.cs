using System.Globalization;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>Reads samples out of a Prometheus text scrape, as a dashboard query would.</summary>
public static class PrometheusScrape
{
    /// <summary>The sum of every sample of <paramref name="metric"/> whose labels hold all of <paramref name="labels"/>.</summary>
    public static double Sum(string scrape, string metric, params string[] labels) =>
        scrape.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            // name{labels} value [timestamp]: the value is the first field after the labels.
            .Sum(line => double.Parse(
                line[(line[metric.Length] == '{' ? line.LastIndexOf('}') + 1 : metric.Length)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0],
                CultureInfo.InvariantCulture));
}
