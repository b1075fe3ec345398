using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Npgsql;

namespace Neptun.Chat.Service.UnitTests;

/// <summary>
/// Which failures mean the database as a whole is away (503 with a retry pushback, counted as an
/// outage) and which are about one create or unexpected. The shapes are Npgsql's own; the
/// integration tests (HighAvailability) bring each about against real PostgreSQL servers.
/// </summary>
public sealed class DatabaseAwayTests
{
    public static TheoryData<string, Exception> Away => new()
    {
        { "no host in the wanted role", new NpgsqlException("No suitable host was found.") },
        { "no host reachable", new NpgsqlException("Unable to connect to a suitable host.", new AggregateException(Refused(), Refused())) },
        { "connection refused", Refused() },
        { "connection reset", new NpgsqlException("Exception while reading from stream", new IOException("reset", new SocketException((int)SocketError.ConnectionReset))) },
        { "connect timed out", new NpgsqlException("Timeout during connection attempt", new TimeoutException()) },
        { "admin shutdown", Postgres("57P01") },
        { "crash shutdown", Postgres("57P02") },
        { "cannot connect now", Postgres("57P03") },
        { "connection failure", Postgres("08006") },
        { "too many connections", Postgres("53300") },
        { "read-only transaction", Postgres("25006") },
    };

    public static TheoryData<string, Exception> NotAway => new()
    {
        { "a foreign key", Postgres("23503") },
        { "a serialization failure (transient, but about the transaction)", Postgres("40001") },
        { "a syntax error", Postgres("42601") },
        { "hosts that failed for another reason", new NpgsqlException("Unable to connect to a suitable host.", new AggregateException(Refused(), Postgres("28P01"))) },
        { "not a database failure", new InvalidOperationException("a bug") },
    };

    [Theory]
    [MemberData(nameof(Away))]
    public void The_database_is_away(string what, Exception exception) =>
        Assert.True(DatabaseFailures.WhyAway(exception) is not null, what);

    [Theory]
    [MemberData(nameof(NotAway))]
    public void The_database_is_not_away(string what, Exception exception) =>
        Assert.True(DatabaseFailures.WhyAway(exception) is null, what);

    [Fact]
    public void An_answer_to_a_create_that_arrived_before_the_outage_does_not_end_it()
    {
        var logger = new EventIdsLogger();
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1");
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var failures = new DatabaseFailures(
            dataSource, new DatabaseSchemaState(dataSource, NullLogger<DatabaseSchemaState>.Instance), Options.Create(new DatabaseOptions()), logger,
            services.GetRequiredService<IMeterFactory>());
        var arrivedBefore = Stopwatch.GetTimestamp();

        failures.ToRpcException(Refused(), timedOut: false);
        // Its COMMIT acknowledged just before the crash, its answer late: not the database back.
        failures.DatabaseAnswered(arrivedBefore);
        Assert.Equal([AwayEvent], logger.EventIds);

        failures.DatabaseAnswered(Stopwatch.GetTimestamp());
        Assert.Equal([AwayEvent, BackEvent], logger.EventIds);
    }

    private const int AwayEvent = 30;
    private const int BackEvent = 31;

    private static NpgsqlException Refused() => new("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    private sealed class EventIdsLogger : ILogger<DatabaseFailures>
    {
        public List<int> EventIds { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            EventIds.Add(eventId.Id);
    }
}
