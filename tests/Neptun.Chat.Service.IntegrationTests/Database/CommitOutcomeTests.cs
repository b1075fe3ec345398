using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>
/// What the service asks PostgreSQL when the answer to a COMMIT was lost: whether that transaction
/// committed, and, while it is still in progress on its server process, the answer once that
/// process is ended.
/// </summary>
public sealed class CommitOutcomeTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private ChatRepository _repository = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        _repository = new ChatRepository(_dataSource, NullLogger<ChatRepository>.Instance);
        await _database.ExecuteAsync("CREATE TABLE written (id integer)");
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_finished_transaction_is_reported_as_it_ended(bool commit)
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var (transactionId, serverProcess) = await WriteAsync(connection, transaction);
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }

        Assert.Equal(commit, await _repository.WasCommittedAsync(transactionId, serverProcess));
    }

    [Fact]
    public async Task A_transaction_still_in_progress_is_ended_with_its_server_process_and_reported_rolled_back()
    {
        var connection = await _database.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        var (transactionId, serverProcess) = await WriteAsync(connection, transaction);

        Assert.False(await _repository.WasCommittedAsync(transactionId, serverProcess));

        // Its process is gone, and what it wrote with it.
        await Assert.ThrowsAnyAsync<Exception>(() => transaction.CommitAsync());
        Assert.Equal(0, await _database.ScalarAsync<long>("SELECT count(*) FROM written"));
        Assert.Equal(0, await _database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE pid = @Pid", new { Pid = serverProcess }));
        await connection.DisposeAsync();
    }

    private static async Task<(ulong TransactionId, int ServerProcess)> WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await connection.ExecuteAsync("INSERT INTO written VALUES (1)", transaction: transaction);
        await using var command = new NpgsqlCommand("SELECT pg_current_xact_id(), pg_backend_pid()", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetFieldValue<ulong>(0), reader.GetInt32(1));
    }
}
