namespace Neptun.Chat.Service.Database;

/// <summary>The PostgreSQL error codes the service tells apart.</summary>
public static class SqlStates
{
    /// <summary>
    /// Connection exceptions, operator intervention (shutdown, cancel) and insufficient resources:
    /// failures of the server as a whole, not of any one row a statement wrote.
    /// </summary>
    public static bool IsAboutTheServer(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal);
}
