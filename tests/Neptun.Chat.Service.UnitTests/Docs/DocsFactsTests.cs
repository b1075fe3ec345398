using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Neptun.Chat.Service.UnitTests.Docs;

/// <summary>
/// The mechanical facts of README.md and docs/*.md held against the code: environment variables,
/// defaults (README's configuration table, and a value written beside a variable in prose), ports,
/// event ids and metric names. A doc that drifts from the code fails here, with the page, the line
/// and what the code says.
/// </summary>
public sealed partial class DocsFactsTests
{
    /// <summary>
    /// Facts the docs had wrong when this test was written, while others were rewriting those pages:
    /// each is reported, not failed. Empty this list once the pages are fixed: an entry that no
    /// longer fails fails the test, so that it cannot outlive its fix.
    /// </summary>
    private static readonly HashSet<string> KnownStale = [];

    [Fact]
    public void Every_environment_variable_names_a_setting_the_code_reads()
    {
        var findings = new List<Finding>();
        var seen = 0;
        foreach (var (name, constant) in ServiceConfiguration.FixedVariables)
        {
            if (constant is not null && constant != name)
            {
                findings.Add(new("variable", "(allow list)", 0, name, $"the code's constant for it now says {constant}"));
            }
        }

        foreach (var page in DocPages.All)
        {
            for (var line = 1; line <= page.Lines.Length; line++)
            {
                foreach (var variable in SectionVariables(page.Lines[line - 1]))
                {
                    seen++;
                    if (ServiceConfiguration.WhyUnknown(variable) is { } why)
                    {
                        findings.Add(new("variable", page.Path, line, variable, why));
                    }
                }

                foreach (Match variable in FixedVariable().Matches(page.Lines[line - 1]))
                {
                    if (!ServiceConfiguration.FixedVariables.ContainsKey(variable.Value))
                    {
                        findings.Add(new("variable", page.Path, line, variable.Value,
                            $"not a variable the service or its frameworks read (known: {string.Join(", ", ServiceConfiguration.FixedVariables.Keys)})"));
                    }
                }
            }
        }

        Assert.True(seen > 0, "no Section__Key variable found in the docs: is the pattern still right?");
        AssertNoFindings("variable", findings);
    }

    [Fact]
    public void The_readme_configuration_table_gives_the_code_defaults()
    {
        var page = DocPages.All.Single(page => page.Path == "README.md");
        var header = Array.FindIndex(page.Lines, line => ConfigurationTableHeader().IsMatch(line));
        Assert.True(header >= 0, "README.md has no configuration table (| variable | meaning | default |).");
        var findings = new List<Finding>();
        var rows = 0;
        for (var index = header + 2; index < page.Lines.Length && page.Lines[index].StartsWith('|'); index++, rows++)
        {
            var cells = page.Lines[index].Trim().Trim('|').Split('|');
            // Variables that name no setting are the variable check's findings; here only defaults are compared.
            var variables = SectionVariables(cells[0]).Where(variable => IsOptionBacked(variable) && ServiceConfiguration.WhyUnknown(variable) is null).ToList();
            var written = CodeSpan().Matches(cells[^1]).Select(match => match.Groups[1].Value).ToList();
            var line = index + 1;
            if (variables.Count == 0)
            {
                continue;
            }

            if (written.Count == 0)
            {
                var saysUnset = cells[^1].Trim() is var text && (text.StartsWith("none", StringComparison.Ordinal) || text.StartsWith("off", StringComparison.Ordinal));
                findings.AddRange(variables.Where(variable => !saysUnset || !IsUnset(ServiceConfiguration.DefaultOf(variable)))
                    .Select(variable => new Finding("default", page.Path, line, variable, $"the table gives no default, the code's is {Show(ServiceConfiguration.DefaultOf(variable))}")));
                continue;
            }

            if (written.Count != variables.Count)
            {
                findings.Add(new("default", page.Path, line, string.Join(", ", variables), $"{written.Count} defaults for {variables.Count} variables"));
                continue;
            }

            foreach (var (variable, value) in variables.Zip(written))
            {
                var actual = ServiceConfiguration.DefaultOf(variable);
                if (!SameValue(value, actual))
                {
                    findings.Add(new("default", page.Path, line, $"{variable} = {value}", $"the code's default is {Show(actual)}"));
                }
            }
        }

        Assert.True(rows > 10, $"README.md's configuration table has only {rows} rows: is it still read whole?");
        AssertNoFindings("default", findings);
    }

    [Fact]
    public void A_default_written_beside_a_variable_in_prose_is_the_code_default()
    {
        var findings = new List<Finding>();
        var seen = 0;
        foreach (var page in DocPages.All)
        {
            var (text, lineOf) = page.Flattened();
            foreach (Match claim in ProseDefault().Matches(text))
            {
                // A bare __Key is of the section of the variable written last before it.
                var variable = claim.Groups["variable"].Value is var written && written.StartsWith("__", StringComparison.Ordinal)
                    ? SectionVariables(text[Math.Max(0, claim.Index - 200)..claim.Index]).LastOrDefault() is { } previous
                        ? previous.Split("__")[0] + written
                        : null
                    : claim.Groups["variable"].Value;
                if (variable is null || !IsOptionBacked(variable) || ServiceConfiguration.WhyUnknown(variable) is not null)
                {
                    continue;
                }

                seen++;
                var value = claim.Groups["value"].Value.Replace(",", "", StringComparison.Ordinal);
                var factor = claim.Groups["unit"].Value switch { "KiB" => 1024m, "MiB" => 1024m * 1024, _ => 1m };
                var number = decimal.Parse(value, CultureInfo.InvariantCulture) * factor;
                var actual = ServiceConfiguration.DefaultOf(variable);
                if (!SameValue(number.ToString(CultureInfo.InvariantCulture), actual))
                {
                    findings.Add(new("prose default", page.Path, lineOf[claim.Index], $"{variable} = {claim.Groups["value"].Value} {claim.Groups["unit"].Value}".TrimEnd(),
                        $"the code's default is {Show(actual)}"));
                }
            }
        }

        Assert.True(seen > 0, "no default written beside a variable was found: is the pattern still right?");
        AssertNoFindings("prose default", findings);
    }

    [Fact]
    public void Ports_in_the_docs_are_the_endpoints_of_appsettings_and_the_dockerfile()
    {
        var ports = ServiceConfiguration.EndpointPorts;
        var findings = new List<Finding>();
        var seen = 0;
        foreach (var page in DocPages.All)
        {
            // Flattened: a port and the surface it is said to be may sit on two lines.
            var (text, lineOf) = page.Flattened();
            foreach (Match mention in ServicePort().Matches(text))
            {
                seen++;
                var port = int.Parse(mention.Value, CultureInfo.InvariantCulture);
                // The surface named in the same clause, after any other port: "gRPC callers, 8082" says nothing of 8082.
                var before = ClauseEnd().Split(text[Math.Max(0, mention.Index - 40)..mention.Index])[^1];
                var surface = SurfaceWord().Matches(before).LastOrDefault() is { } word
                    ? ports.Keys.Single(endpoint => word.Groups[endpoint.ToLowerInvariant()].Success)
                    : null;
                if (!ports.Values.Contains(port))
                {
                    findings.Add(new("port", page.Path, lineOf[mention.Index], $"port {port}", $"appsettings.json's endpoints are {string.Join(", ", ports.Select(p => $"{p.Key} {p.Value}"))}"));
                }
                else if (surface is not null && ports[surface] != port)
                {
                    findings.Add(new("port", page.Path, lineOf[mention.Index], $"{surface} on {port}", $"appsettings.json has {surface} on {ports[surface]}"));
                }
            }

            foreach (Match exposes in Exposes().Matches(text))
            {
                var named = ServicePort().Matches(exposes.Groups["list"].Value).Select(match => int.Parse(match.Value, CultureInfo.InvariantCulture)).ToHashSet();
                if (named.Count > 0 && !named.SetEquals(ServiceConfiguration.ExposedPorts))
                {
                    findings.Add(new("port", page.Path, lineOf[exposes.Index], $"exposes {string.Join(", ", named.Order())}",
                        $"the Dockerfile exposes {string.Join(", ", ServiceConfiguration.ExposedPorts.Order())}"));
                }
            }
        }

        Assert.True(seen > 0, "no port of the service found in the docs: is the pattern still right?");
        AssertNoFindings("port", findings);
    }

    [Fact]
    public void Event_ids_in_the_docs_are_those_of_the_messages_they_name()
    {
        var messages = ServiceTelemetry.LogMessages;
        Assert.NotEmpty(messages);
        var findings = new List<Finding>();
        var paired = 0;
        foreach (var page in DocPages.All)
        {
            var (text, lineOf) = page.Flattened();
            var quoted = messages
                .Select(message => (message.EventId, Pattern: ServiceTelemetry.MessagePattern(message.Message)))
                .Where(message => message.Pattern is not null)
                .SelectMany(message => message.Pattern!.Matches(text).Select(match => (message.EventId, match.Index, End: match.Index + match.Length)))
                .ToList();
            foreach (Match mention in EventMention().Matches(text))
            {
                var id = int.Parse(mention.Groups[1].Value, CultureInfo.InvariantCulture);
                var line = lineOf[mention.Index];
                if (messages.All(message => message.EventId != id))
                {
                    findings.Add(new("event", page.Path, line, mention.Value, $"Log.cs declares no event {id}"));
                    continue;
                }

                // The message the mention is about: the nearest quoted one around it.
                var nearest = quoted
                    .Select(message => (message.EventId, Gap: Math.Max(0, Math.Max(message.Index - (mention.Index + mention.Length), mention.Index - message.End))))
                    .Where(message => message.Gap <= 300)
                    .OrderBy(message => message.Gap)
                    .FirstOrDefault();
                if (nearest.EventId != 0)
                {
                    paired++;
                }

                if (nearest.EventId != 0 && nearest.EventId != id)
                {
                    var message = messages.First(message => message.EventId == nearest.EventId).Message;
                    findings.Add(new("event", page.Path, line, $"{mention.Value} for \"{message}\"", $"Log.cs gives that message event id {nearest.EventId}"));
                }
            }
        }

        Assert.True(paired > 0, "no event id in the docs was found beside its message: are the patterns still right?");
        AssertNoFindings("event", findings);
    }

    [Fact]
    public void Metric_names_in_the_docs_are_instruments_the_code_creates()
    {
        Assert.NotEmpty(ServiceTelemetry.PrometheusNames);
        var findings = new List<Finding>();
        var seen = 0;
        foreach (var page in DocPages.All)
        {
            for (var line = 1; line <= page.Lines.Length; line++)
            {
                foreach (Match name in MetricName().Matches(page.Lines[line - 1]))
                {
                    var metric = name.Groups[1].Value;
                    seen += ServiceTelemetry.DatabaseNames.Contains(metric) ? 0 : 1;
                    if (!ServiceTelemetry.DatabaseNames.Contains(metric) && !ServiceTelemetry.PrometheusNames.Contains(metric))
                    {
                        findings.Add(new("metric", page.Path, line, metric,
                            $"the code's metrics are {string.Join(", ", ServiceTelemetry.PrometheusNames.Where(n => !n.EndsWith("_bucket", StringComparison.Ordinal)).Order())}"));
                    }
                }
            }
        }

        Assert.True(seen > 0, "no metric name found in the docs: is the pattern still right?");
        AssertNoFindings("metric", findings);
    }

    /// <summary>The <c>Section__Key</c> variables of a line; a bare <c>__Key</c> after one (as in "`RateLimiting__AnonymousPermitsPerSecond`, `__AnonymousBurst`") is of its section.</summary>
    private static IEnumerable<string> SectionVariables(string line)
    {
        string? section = null;
        foreach (Match variable in SectionVariable().Matches(line))
        {
            if (variable.Groups["section"].Success)
            {
                section = variable.Groups["section"].Value;
            }

            if (section is not null)
            {
                yield return section + variable.Groups["keys"].Value;
            }
        }
    }

    private static bool IsOptionBacked(string variable) =>
        variable.StartsWith("Kestrel__", StringComparison.Ordinal) || ServiceConfiguration.Sections.ContainsKey(variable.Split("__")[0]);

    private static bool IsUnset(object? value) => value switch
    {
        null => true,
        string text => text.Length == 0,
        bool flag => !flag,
        IEnumerable items => !items.Cast<object>().Any(),
        _ => false,
    };

    /// <summary>A written default against the code's, apart from formatting (1,024 and 1024).</summary>
    private static bool SameValue(string written, object? actual) => actual switch
    {
        bool flag => written == (flag ? "true" : "false"),
        TimeSpan span => TimeSpan.TryParse(written, CultureInfo.InvariantCulture, out var parsed) && parsed == span,
        string text => written == text,
        int or long or double or decimal or float =>
            decimal.TryParse(written.Replace(",", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && number == Convert.ToDecimal(actual, CultureInfo.InvariantCulture),
        _ => false,
    };

    private static string Show(object? value) => value switch
    {
        null => "unset",
        bool flag => flag ? "true" : "false",
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        IEnumerable items and not string => $"[{string.Join(", ", items.Cast<object>())}]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static void AssertNoFindings(string check, List<Finding> findings)
    {
        var stale = findings.Where(finding => !KnownStale.Contains(finding.Key)).Select(finding => finding.ToString()).ToList();
        var fixedSince = KnownStale.Where(key => key.StartsWith(check + ": ", StringComparison.Ordinal) && findings.All(finding => finding.Key != key)).ToList();
        Assert.True(stale.Count == 0 && fixedSince.Count == 0,
            string.Join('\n', stale.Select(finding => "docs differ from the code: " + finding)
                .Concat(fixedSince.Select(key => $"no longer stale, remove it from {nameof(KnownStale)}: {key}"))));
    }

    /// <summary>One doc fact the code contradicts. Its key leaves out the line, which moves as pages are edited.</summary>
    private sealed record Finding(string Check, string Page, int Line, string Fact, string CodeSays)
    {
        public string Key => $"{Check}: {Page}: {Fact}";

        public override string ToString() => $"{Page}:{Line}: {Fact}: {CodeSays} [{Key}]";
    }

    [GeneratedRegex("""(?<![A-Za-z0-9_])(?<section>[A-Z][A-Za-z0-9]*)?(?<keys>(?:__(?:[A-Z][A-Za-z0-9]*|<[a-z]+>|[0-9]+))+)""")]
    private static partial Regex SectionVariable();

    [GeneratedRegex("""(?<![A-Za-z0-9_])(?:DATABASE|NUXT|OTEL|ASPNETCORE)_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])""")]
    private static partial Regex FixedVariable();

    [GeneratedRegex(@"^\|\s*variable\s*\|.*\|\s*default\s*\|\s*$")]
    private static partial Regex ConfigurationTableHeader();

    [GeneratedRegex("`([^`]*)`")]
    private static partial Regex CodeSpan();

    // "`Database__MaxBatchWriters` (2)", "`Database__CreateTimeoutSeconds` (5 s by default)", "`Database__MaxQueuedCreates`, 1024".
    [GeneratedRegex("""`(?<variable>(?:[A-Z][A-Za-z0-9]*)?(?:__[A-Z][A-Za-z0-9]*)+)`(?: \((?<value>[0-9][0-9,]*(?:\.[0-9]+)?)(?: (?<unit>s|ms|KiB|MiB))?(?: by default)?\)|, (?<value>[0-9][0-9,]*(?:\.[0-9]+)?)(?: (?<unit>s|ms|KiB|MiB))?(?=\)| for ))""")]
    private static partial Regex ProseDefault();

    private const string ServicePortPattern = "(?<![0-9A-Za-z])80[0-9]{2}(?![0-9])";

    [GeneratedRegex(ServicePortPattern)]
    private static partial Regex ServicePort();

    [GeneratedRegex("[,;.] |" + ServicePortPattern)]
    private static partial Regex ClauseEnd();

    // The surface a port is said to be: groups named after appsettings.json's endpoints, lower case.
    [GeneratedRegex(@"(?<rest>\bREST\b|\brest\b)|(?<grpc>(?i:grpc|h2c))|(?<operations>(?i:\boperations\b|healthz|\bmetrics\b|\bprobes?\b))")]
    private static partial Regex SurfaceWord();

    // The ports a sentence or a table cell says are exposed: up to its end.
    [GeneratedRegex(@"(?i)\bexpos(?:e|es|ed|ing)\b(?<list>[^|.;]{0,80})")]
    private static partial Regex Exposes();

    [GeneratedRegex(@"(?i)\bevent(?: id)? ([0-9]+)\b")]
    private static partial Regex EventMention();

    [GeneratedRegex("`(neptun_[a-z0-9_]+)`")]
    private static partial Regex MetricName();
}
