using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace Neptun.Chat.Service.Limits;

/// <summary>
/// The rate limit shared by every replica: one fixed window per user, kept in Redis by
/// RedisRateLimiting's atomic script. When Redis does not answer, creates go on without the limit
/// (fail open): a warning once per outage, a metric for every create let through, and the shared
/// limit applies again as soon as the connection, which reconnects by itself, answers.
/// </summary>
public sealed class SharedRateLimit : IHostedService, IDisposable
{
    /// <summary>Keys are the service's own, so that one Redis can serve other services too.</summary>
    private const string KeyPrefix = "neptun-chat:user:";

    private readonly UserRateLimitOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SharedRateLimit> _logger;
    private readonly Counter<long> _failedOpen;
    private ConnectionMultiplexer? _redis;
    private int _unavailable;

    public SharedRateLimit(IOptions<UserRateLimitOptions> options, TimeProvider time, ILogger<SharedRateLimit> logger, IMeterFactory meterFactory)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _failedOpen = meterFactory.Create(ServiceIdentity.MeterName).CreateCounter<long>(
            "neptun.chat.rate_limit.failed_open",
            unit: "{request}",
            description: "Requests let through without the shared rate limit because Redis did not answer.");
    }

    /// <summary>The connection, for tests that wait for it to come back.</summary>
    public IConnectionMultiplexer Connection => _redis ?? throw new InvalidOperationException("No Redis is configured.");

    /// <summary>
    /// Connects before the host serves, so that the first creates do not find the connection still
    /// being made. A Redis that refuses is not waited for: the service serves, failing open, and the
    /// connection keeps trying in the background.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.UsesRedis)
        {
            return;
        }

        var configuration = ConfigurationOptions.Parse(_options.Redis!);
        // Start, and keep serving, while Redis is away; the connection comes back by itself.
        configuration.AbortOnConnectFail = false;
        // While disconnected, fail at once instead of queueing the command until Redis returns:
        // a create must not wait for Redis.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.AsyncTimeout = configuration.SyncTimeout = _options.RedisTimeoutMilliseconds;
        configuration.ClientName ??= ServiceIdentity.Name;
        // Replies are read on the thread pool that runs the request, not on the client's own
        // threads: a permit's answer then costs no extra thread wake-up (docs/performance.md).
        configuration.SocketManager = SocketManager.ThreadPool;
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The limiter of one user's partition.</summary>
    public RateLimiter CreateLimiter(int userId) => new FailOpenLimiter(
        new RedisFixedWindowRateLimiter<string>(KeyPrefix + userId, new RedisFixedWindowRateLimiterOptions
        {
            PermitLimit = _options.PermitLimit,
            Window = TimeSpan.FromSeconds(_options.WindowSeconds),
            ConnectionMultiplexerFactory = () => Connection,
        }),
        this);

    public void Dispose() => _redis?.Dispose();

    private void Answered()
    {
        if (Volatile.Read(ref _unavailable) == 1 && Interlocked.Exchange(ref _unavailable, 0) == 1)
        {
            Log.SharedRateLimitResumed(_logger);
        }
    }

    private void FailedOpen(Exception exception)
    {
        _failedOpen.Add(1);
        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
        {
            // The type only: a Redis message can name the endpoint, never the password, but keep it short.
            Log.SharedRateLimitUnavailable(_logger, exception.GetType().Name);
        }
    }

    /// <summary>Wraps the Redis limiter of one partition: its answer when Redis gives one, a permit when not.</summary>
    private sealed class FailOpenLimiter(RateLimiter shared, SharedRateLimit owner) : RateLimiter
    {
        public override TimeSpan? IdleDuration => shared.IdleDuration;

        public override RateLimiterStatistics? GetStatistics() => null;

        // The middleware tries a synchronous acquire first; Redis can only be asked asynchronously.
        protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Refused;

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            RateLimitLease lease;
            try
            {
                // StackExchange.Redis takes no token; its own timeout (RedisTimeoutMilliseconds) bounds the wait.
                lease = await shared.AcquireAsync(permitCount, cancellationToken);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                owner.FailedOpen(exception);
                return Lease.Admitted;
            }

            owner.Answered();
            if (lease.IsAcquired)
            {
                return lease;
            }

            // The library gives the window's end in Unix seconds; the pushback is the time left
            // until then, which the rejection rounds up to whole seconds.
            var retryAfter = lease.TryGetMetadata(RateLimitMetadataName.Reset, out var reset)
                ? TimeSpan.FromSeconds(Math.Max(0, reset - owner._time.GetUtcNow().ToUnixTimeSeconds()))
                : TimeSpan.FromSeconds(owner._options.WindowSeconds);
            lease.Dispose();
            return new Lease(false, retryAfter);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                shared.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Admitted = new(true, null);
        public static readonly Lease Refused = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
