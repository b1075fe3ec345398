namespace Neptun.Chat.Service.Database;

/// <summary>How the service reaches the Neptun database; bound from the <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>The web app's own variable, read so that both share one setting.</summary>
    public const string ConnectionStringVariable = "DATABASE_CONNECTION_STRING";

    /// <summary>A <c>postgresql://</c> URI or an Npgsql keyword connection string.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Create the Neptun tables where they are absent before serving. Off in production unless asked for.</summary>
    public bool MigrateOnStartup { get; set; }

    /// <summary>
    /// How many statements Npgsql prepares per connection (0 turns preparing off, as a PgBouncer
    /// before 1.21 in transaction mode needs). A <c>Max Auto Prepare</c> in the connection string wins.
    /// </summary>
    public int MaxAutoPrepare { get; set; } = 16;

    /// <summary>How long an unknown model name is trusted to be unknown before the enum is read again.</summary>
    public int ModelCatalogRefreshSeconds { get; set; } = 5;

    /// <summary>
    /// A create's deadline, fixed on arrival (or nearer, when the call's own deadline is): a create
    /// still queued then is answered 503 / UNAVAILABLE unsent; a statement whose creates have all
    /// passed theirs is cancelled and rolled back. Positive, and at most <see cref="MaxCreateTimeoutSeconds"/>.
    /// </summary>
    public double CreateTimeoutSeconds { get; set; } = 5;

    /// <summary>The name <see cref="CreateTimeoutSeconds"/> had until it was found to bound the whole create.</summary>
    public const string RenamedTimeoutKey = "Database:RequestTimeoutSeconds";

    /// <summary>A few minutes: longer than any caller waits, and than any orchestrator lets a stopping pod finish.</summary>
    public const double MaxCreateTimeoutSeconds = 300;

    /// <summary>
    /// The most concurrent creates written as one statement and one commit (group commit); 1 writes
    /// each create on its own, as before batching.
    /// </summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>How many batches may be in flight at once, each on its own pooled connection; creates wait in a queue meanwhile.</summary>
    /// <remarks>
    /// Few, since fewer writers make larger batches: fewer statements and commits per create, for
    /// the service and PostgreSQL alike (docs/performance.md has the A/B). The first writes; the
    /// others stand by and join only when creates have waited for it
    /// (<c>ChatCreateWriters.StandbyAfter</c>), so that a statement waiting on a lock does not hold
    /// up every create.
    /// </remarks>
    public int MaxBatchWriters { get; set; } = 2;

    /// <summary>
    /// The connection pool's ceiling unless the connection string sets <c>Max Pool Size</c>: each
    /// writer's connection and one for its lost-COMMIT check, then one each for the model catalog,
    /// the request id purge, the schema check and the readiness probe. Nothing a caller sends opens
    /// another (Npgsql's own default, 100 per replica, let a flood of probes take PostgreSQL's
    /// max_connections from the web app).
    /// </summary>
    public int PoolSize => (2 * MaxBatchWriters) + 4;

    /// <summary>
    /// The most creates that may wait for a writer; one more is refused at once with 503 and a
    /// retry pushback. Sized to a fraction of a second of throughput, so that what is queued is
    /// written well within the create timeout.
    /// </summary>
    public int MaxQueuedCreates { get; set; } = 1024;

    /// <summary>How often the migration journal is read again while the database lacks scripts this version needs.</summary>
    public double SchemaCheckIntervalSeconds { get; set; } = 5;
}
