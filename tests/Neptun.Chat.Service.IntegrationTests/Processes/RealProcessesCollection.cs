namespace Neptun.Chat.Service.IntegrationTests.Processes;

/// <summary>
/// Tests that start, stop and kill real processes (the service, a PostgreSQL cluster). They run one
/// after another and after every other test class, so their timings are not those of a machine
/// busy with the rest of the suite. <c>dotnet test --filter Category!=RealProcesses</c> leaves them out.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcessesCollection
{
    public const string Name = "Real processes";
    public const string Trait = "RealProcesses";
}
