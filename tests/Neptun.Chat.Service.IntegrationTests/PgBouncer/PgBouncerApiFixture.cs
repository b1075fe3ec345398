using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.PgBouncer;

/// <summary>The API fixture with the service (migrations included) talking to its database only through pgbouncer in transaction mode.</summary>
public sealed class PgBouncerApiFixture : NeptunApiFixture
{
    private Infrastructure.PgBouncer? _bouncer;

    protected override async Task<string> ServiceConnectionStringAsync(TestDatabase database)
    {
        _bouncer = await Infrastructure.PgBouncer.StartAsync();
        return _bouncer.ConnectionStringFor(database.Name);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_bouncer is not null)
        {
            await _bouncer.DisposeAsync();
        }
    }
}
