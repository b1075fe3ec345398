using Microsoft.Extensions.Options;
using Npgsql;

namespace Neptun.Chat.Service.Database;

/// <summary>Builds the one <see cref="NpgsqlDataSource"/> (and so the one connection pool) of the process.</summary>
public static class NeptunDataSourceFactory
{
    public static NpgsqlDataSource Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var builder = new NpgsqlDataSourceBuilder(BuildConnectionString(options));
        builder.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
        return builder.Build();
    }

    public static string BuildConnectionString(DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException(
                $"No database configured: set {DatabaseOptions.ConnectionStringVariable} (a postgresql:// URI or an Npgsql connection string).");
        }

        var parsed = PostgresConnectionString.Parse(options.ConnectionString);
        var settings = parsed.Settings;

        // The Neptun tables store zone-less timestamps that mean UTC; a session in any other zone
        // would shift now() and what is read back.
        settings.Timezone = "UTC";

        if (string.IsNullOrEmpty(settings.ApplicationName))
        {
            settings.ApplicationName = ServiceIdentity.Name;
        }

        // A database that cannot be reached should cost a caller seconds, not Npgsql's default 15 s.
        if (!parsed.Gives("Timeout"))
        {
            settings.Timeout = 5;
        }

        // A create's deadline cancels its statement. When the server does not answer the cancel
        // (it is frozen, or the network is), Npgsql gives up on the connection after this long:
        // 1 s rather than 2, so that such a caller is answered within its timeout plus 2 s.
        if (!parsed.Gives("Cancellation Timeout"))
        {
            settings.CancellationTimeout = 1000;
        }

        // The service runs one statement over and over: prepared once per connection, PostgreSQL
        // skips parsing and planning it on every call. Npgsql prepares it after its second use.
        // A setting rather than only a keyword, since the URI form cannot carry Npgsql keywords.
        if (!parsed.Gives("Max Auto Prepare"))
        {
            settings.MaxAutoPrepare = options.MaxAutoPrepare;
        }

        // The pool holds what the service's own work can use at once, never what callers ask for:
        // PostgreSQL's max_connections is shared with the web app and the other replicas.
        if (!parsed.Gives("Max Pool Size") && !parsed.Gives("Maximum Pool Size"))
        {
            settings.MaxPoolSize = options.PoolSize;
        }

        // After a failover Npgsql trusts what it learnt of each host (the old primary down, the
        // standby a standby) for Host Recheck Seconds, 10 by default: creates would be refused for
        // that long after the promotion. At 1 s the new primary is found within a second, for at
        // most one state query per host and second (0 would ask on every connection taken from
        // the pool). A connection that breaks marks its host down and empties that host's pool,
        // so no connection to the old primary is used again.
        if (!parsed.Gives("Host Recheck Seconds"))
        {
            settings.HostRecheckSeconds = 1;
        }

        // No session state is ever changed, so a pooled connection needs no DISCARD ALL on its way
        // back, which would also drop the prepared statement.
        if (!parsed.Gives("No Reset On Close"))
        {
            settings.NoResetOnClose = true;
        }

        return settings.ConnectionString;
    }
}
