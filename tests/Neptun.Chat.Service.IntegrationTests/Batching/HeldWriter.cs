using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Neptun.Chat.Service.IntegrationTests.Processes;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Batching;

/// <summary>
/// Makes a batch of a known size: a transaction holds a lock that every create statement waits
/// for, a first create takes the service's only writer into that wait, the creates sent next
/// queue behind it, and releasing the lock lets the writer take all of them at once.
/// </summary>
public sealed class HeldWriter : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly TestDatabase _database;
    private readonly IServiceProvider _services;

    private HeldWriter(TestDatabase database, IServiceProvider services, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _database = database;
        _services = services;
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>Starts holding; <paramref name="firstCreate"/> is then sent and must end up waiting on the lock.</summary>
    public static Task<(HeldWriter Writer, Task FirstCreate)> StartAsync(NeptunApiFixture api, Func<Task> firstCreate) =>
        StartAsync(api.Database, api.Factory.Services, firstCreate);

    /// <inheritdoc cref="StartAsync(NeptunApiFixture, Func{Task})"/>
    public static async Task<(HeldWriter Writer, Task FirstCreate)> StartAsync(TestDatabase database, IServiceProvider services, Func<Task> firstCreate)
    {
        var connection = await database.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();

        // Every create inserts into chat_conversation (ROW EXCLUSIVE), which SHARE blocks.
        await connection.ExecuteAsync("LOCK TABLE public.chat_conversation IN SHARE MODE", transaction: transaction);
        var held = new HeldWriter(database, services, connection, transaction);
        var first = firstCreate();
        if (await Polling.UntilAsync(async () => await held.CountWaitingOnLockAsync() == 1, TimeSpan.FromSeconds(30)) is null)
        {
            // Let the lock go, or every later test on this database waits behind it.
            await held.DisposeAsync();
            Assert.Fail("The first create never waited on the held lock.");
        }

        return (held, first);
    }

    /// <summary>The service's statements waiting on a lock now.</summary>
    public Task<long> CountWaitingOnLockAsync() => _database.CountServiceStatementsWaitingOnLockAsync();

    /// <summary>Waits until <paramref name="count"/> creates queue behind the held writer.</summary>
    public async Task UntilQueuedAsync(int count)
    {
        var queue = _services.GetRequiredService<ChatCreateQueue>();
        Assert.NotNull(await Polling.UntilAsync(() => Task.FromResult(queue.Reader.Count == count), TimeSpan.FromSeconds(60)));
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.CommitAsync();
        await _connection.DisposeAsync();
    }
}
