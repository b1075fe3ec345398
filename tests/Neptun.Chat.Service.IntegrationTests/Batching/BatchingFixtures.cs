namespace Neptun.Chat.Service.IntegrationTests.Batching;

/// <summary>The API fixture with group commit off: every create written alone, as before batching.</summary>
public sealed class UnbatchedApiFixture : NeptunApiFixture
{
    public UnbatchedApiFixture()
    {
        Settings = new Dictionary<string, string?> { ["Database:MaxBatchSize"] = "1" };
    }
}

/// <summary>
/// The API fixture with one batch writer, so that a test can hold that writer (see
/// <see cref="HeldWriter"/>) while creates queue behind it, and so make one batch of them.
/// </summary>
public sealed class OneWriterApiFixture : NeptunApiFixture
{
    public const int MaxBatchSize = 64;

    public OneWriterApiFixture()
    {
        Settings = new Dictionary<string, string?>
        {
            ["Database:MaxBatchSize"] = MaxBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Database:MaxBatchWriters"] = "1",
        };
    }
}
