namespace Neptun.Chat.Service.Database;

/// <summary>The PostgreSQL error codes the service tells apart.</summary>
public static class SqlStates
{
    /// <summary>A write on a read-only server: a standby (a proxy that has not switched to the new primary yet), or a read-only default.</summary>
    public const string ReadOnlySqlTransaction = "25006";

    /// <summary>
    /// Connection exceptions, operator intervention (shutdown, cancel), insufficient resources and a
    /// write refused by a read-only server: failures of the server as a whole, not of any one row a
    /// statement wrote.
    /// </summary>
    public static bool IsAboutTheServer(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
        || state == ReadOnlySqlTransaction;
}
