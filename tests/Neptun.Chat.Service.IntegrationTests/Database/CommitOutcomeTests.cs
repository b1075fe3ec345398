using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;
using Npgsql;

namespace Neptun.Chat.Service.IntegrationTests.Database;

/// <summary>
/// What the service finds out when the answer to a COMMIT was lost: whether the statement's chats
/// are stored, on the server that ran it; a transaction still running is waited out, not ended.
/// </summary>
public sealed class CommitOutcomeTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private ChatRepository _repository = null!;
    private int _userId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await WebAppSchema.CreateAsync(_database);
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        _repository = new ChatRepository(_dataSource, NullLogger<ChatRepository>.Instance);
        _userId = await NeptunRows.InsertUserAsync(_database);
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
        var (written, chatIds) = await WriteChatsAsync(connection, transaction);
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }

        Assert.Equal(commit, await _repository.WasCommittedAsync(written, chatIds));
    }

    [Fact]
    public async Task A_transaction_still_committing_is_waited_out_and_reported_as_it_ended()
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var (written, chatIds) = await WriteChatsAsync(connection, transaction);

        // Within the check's 1 s budget, with room for a busy machine.
        var asking = _repository.WasCommittedAsync(written, chatIds);
        await Task.Delay(150);
        Assert.False(asking.IsCompleted, "answered while the transaction was still running");
        await transaction.CommitAsync();

        Assert.True(await asking);
        Assert.Equal(2, await _database.ScalarAsync<long>("SELECT count(*) FROM chat_conversation WHERE id = ANY(@Ids)", new { Ids = chatIds }));
    }

    [Fact]
    public async Task Another_server_or_a_restarted_one_cannot_say_even_when_the_chats_are_there()
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var (written, chatIds) = await WriteChatsAsync(connection, transaction);
        await transaction.CommitAsync();

        Assert.Null(await _repository.WasCommittedAsync(written with { ServerStarted = written.ServerStarted.AddSeconds(-1) }, chatIds));
    }

    [Fact]
    public async Task Chat_ids_stored_by_another_transaction_are_not_taken_for_the_statement_s()
    {
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var (written, chatIds) = await WriteChatsAsync(connection, transaction);
        await transaction.CommitAsync();

        // The same ids, written at another moment: as after a crash that handed them out again.
        var since = Stopwatch.StartNew();
        Assert.Null(await _repository.WasCommittedAsync(written with { CreatedAt = written.CreatedAt.AddMilliseconds(-1) }, chatIds));
        Assert.True(since.Elapsed >= TimeSpan.FromSeconds(0.9), "gave up before its budget");
    }

    // Two chats, as the create statement writes them: ids drawn first, then the transaction's identity.
    private async Task<(WrittenBy Written, int[] ChatIds)> WriteChatsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await using var command = new NpgsqlCommand("""
            WITH created AS (
                INSERT INTO chat_conversation (name, model, neptun_user_id, created_at, updated_at)
                SELECT 'lost commit ' || n, 'google/gemma-2-27b-it', @UserId, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                FROM generate_series(1, 2) AS n
                RETURNING id)
            SELECT array_agg(id), pg_current_xact_id(), pg_postmaster_start_time(), now() AT TIME ZONE 'UTC' FROM created
            """, connection, transaction) { Parameters = { new NpgsqlParameter<int>("UserId", _userId) } };
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (new WrittenBy(reader.GetFieldValue<ulong>(1), reader.GetFieldValue<DateTime>(2), reader.GetDateTime(3)), reader.GetFieldValue<int[]>(0));
    }
}
