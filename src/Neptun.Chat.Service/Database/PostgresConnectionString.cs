using System.Data.Common;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>Npgsql settings, and which keywords the text itself gave (the service's defaults fill only the others).</summary>
public sealed record ParsedConnectionString(NpgsqlConnectionStringBuilder Settings, IReadOnlySet<string> GivenKeywords)
{
    // NpgsqlConnectionStringBuilder.ContainsKey says whether a keyword exists, not whether it was given.
    public bool Gives(string keyword) => GivenKeywords.Contains(Normalize(keyword));

    /// <summary>Npgsql takes "Max Auto Prepare", "MaxAutoPrepare" and any casing alike.</summary>
    public static string Normalize(string keyword) => keyword.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
}

/// <summary>
/// Turns the connection string the web app uses (a libpq URI) or an Npgsql keyword string into the
/// settings this service connects with. Npgsql itself understands only the keyword form.
/// </summary>
public static class PostgresConnectionString
{
    public static ParsedConnectionString Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var trimmed = connectionString.Trim();
        if (trimmed.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || trimmed.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
        {
            return FromUri(trimmed);
        }

        try
        {
            var given = new DbConnectionStringBuilder { ConnectionString = trimmed }.Keys.Cast<string>().Select(ParsedConnectionString.Normalize);
            return new ParsedConnectionString(new NpgsqlConnectionStringBuilder(trimmed), given.ToHashSet());
        }
        catch (ArgumentException)
        {
            // Npgsql's message quotes the offending text, which may hold the password.
            throw new FormatException($"{DatabaseOptions.ConnectionStringVariable} is neither a postgresql:// URI nor a valid keyword connection string.");
        }
    }

    // postgresql://[user[:password]@][host[:port][,host[:port]...]][/dbname][?parameter=value&...],
    // as libpq reads it. System.Uri cannot parse it: a list of hosts is not a URI authority.
    private static ParsedConnectionString FromUri(string text)
    {
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        var query = queryStart < 0 ? "" : rest[(queryStart + 1)..];
        rest = queryStart < 0 ? rest : rest[..queryStart];

        var pathStart = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = pathStart < 0 ? rest : rest[..pathStart];
        var database = pathStart < 0 ? "" : Unescape(rest[(pathStart + 1)..]);

        var builder = new NpgsqlConnectionStringBuilder();
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Unescape(colon < 0 ? userInfo : userInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Unescape(userInfo[(colon + 1)..]);
            }
        }

        var hosts = authority[(at + 1)..].Split(',').Select(ParseHost).Where(host => host.Name.Length > 0).ToList();
        if (hosts is [var single])
        {
            builder.Host = single.Name.Trim('[', ']');
            if (single.Port is { } port)
            {
                builder.Port = port;
            }
        }
        else if (hosts.Count > 1)
        {
            // Npgsql's own list form: each host with its port, tried in order.
            builder.Host = string.Join(',', hosts.Select(host => host.Port is { } port ? $"{host.Name}:{port}" : host.Name));
        }

        if (database.Length > 0)
        {
            builder.Database = database;
        }

        var given = new HashSet<string>();
        foreach (var (key, value) in QueryParameters(query))
        {
            ApplyUriParameter(builder, key, value);
            if (key.Equals("connect_timeout", StringComparison.OrdinalIgnoreCase))
            {
                given.Add(ParsedConnectionString.Normalize(nameof(builder.Timeout)));
            }
        }

        return new ParsedConnectionString(builder, given);
    }

    /// <summary>One <c>host[:port]</c> of the URI's list; an IPv6 address keeps its brackets.</summary>
    private static (string Name, int? Port) ParseHost(string text)
    {
        var portSeparator = text.LastIndexOf(':');
        if (portSeparator < 0 || portSeparator < text.LastIndexOf(']'))
        {
            return (Unescape(text), null);
        }

        if (!int.TryParse(text[(portSeparator + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port is 0 or > 65535)
        {
            throw new FormatException($"A host's port in {DatabaseOptions.ConnectionStringVariable} is not a port number.");
        }

        return (Unescape(text[..portSeparator]), port);
    }

    private static string Unescape(string text) => Uri.UnescapeDataString(text);

    private static IEnumerable<(string Key, string Value)> QueryParameters(string query)
    {
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Unescape(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Unescape(pair[(equals + 1)..].Replace('+', ' '));
            yield return (key, value);
        }
    }

    // The libpq parameters that a web app's URI carries in practice; an unknown one is refused rather
    // than silently dropped, since it may be a security setting.
    private static void ApplyUriParameter(NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        switch (key.ToLowerInvariant())
        {
            case "sslmode":
                builder.SslMode = value.ToLowerInvariant() switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => throw new FormatException($"sslmode '{value}' in {DatabaseOptions.ConnectionStringVariable} is not a libpq SSL mode."),
                };
                break;
            case "sslrootcert":
                builder.RootCertificate = value;
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "connect_timeout":
                builder.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "user":
                builder.Username = value;
                break;
            case "password":
                builder.Password = value;
                break;
            case "host":
                builder.Host = value;
                break;
            case "port":
                builder.Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "dbname":
                builder.Database = value;
                break;
            case "options":
                builder.Options = value;
                break;
            case "target_session_attrs":
                builder.TargetSessionAttributes = value;
                break;
            default:
                throw new FormatException($"The URI parameter '{key}' in {DatabaseOptions.ConnectionStringVariable} is not supported.");
        }
    }
}
