namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>Files of the repository the tests hold the code to, found above the test binaries.</summary>
public static class RepositoryFiles
{
    /// <param name="relativePath">A path from the repository root, e.g. <c>README.md</c>.</param>
    public static string Find(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(path) && Directory.Exists(Path.Combine(directory.FullName, "src")))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"{relativePath} not found above the test binaries.");
    }
}
