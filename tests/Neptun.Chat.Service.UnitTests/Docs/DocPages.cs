namespace Neptun.Chat.Service.UnitTests.Docs;

/// <summary>The pages a reader meets: README.md and every docs/*.md, read from the repository the tests hold the code to.</summary>
internal static class DocPages
{
    public static string RepositoryRoot { get; } = Path.GetDirectoryName(IntegrationTests.Infrastructure.RepositoryFiles.Find("README.md"))!;

    public static IReadOnlyList<DocPage> All { get; } =
    [
        Read("README.md"),
        .. Directory.GetFiles(Path.Combine(RepositoryRoot, "docs"), "*.md").Order(StringComparer.Ordinal)
            .Select(path => Read(Path.GetRelativePath(RepositoryRoot, path).Replace('\\', '/'))),
    ];

    public static string ReadRepositoryFile(string relativePath) => File.ReadAllText(Path.Combine(RepositoryRoot, relativePath));

    private static DocPage Read(string relativePath) => new(relativePath, ReadRepositoryFile(relativePath).Split('\n'));
}

/// <summary>One page, by its path from the repository root, and its lines.</summary>
internal sealed record DocPage(string Path, string[] Lines)
{
    /// <summary>The page with every run of whitespace made one space (a message wrapped over lines reads as one), and the line each character came from.</summary>
    public (string Text, int[] LineOf) Flattened()
    {
        var text = new System.Text.StringBuilder();
        var lineOf = new List<int>();
        for (var i = 0; i < Lines.Length; i++)
        {
            foreach (var c in Lines[i] + "\n")
            {
                if (char.IsWhiteSpace(c))
                {
                    if (text.Length > 0 && text[^1] == ' ')
                    {
                        continue;
                    }

                    text.Append(' ');
                }
                else
                {
                    text.Append(c);
                }

                lineOf.Add(i + 1);
            }
        }

        return (text.ToString(), lineOf.ToArray());
    }
}
