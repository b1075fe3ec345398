namespace Neptun.Chat.Service.Idempotency;

/// <summary>How long request ids are kept and how they are purged; bound from the <c>Idempotency</c> section.</summary>
public sealed class IdempotencyOptions
{
    public const string SectionName = "Idempotency";

    /// <summary>How long a repeated request id returns the first request's chat.</summary>
    public double RetentionHours { get; set; } = 24;

    /// <summary>How often the service deletes expired request ids.</summary>
    public double PurgeIntervalSeconds { get; set; } = 600;

    /// <summary>Rows deleted per statement, so that a purge never holds many locks at once.</summary>
    public int PurgeBatchSize { get; set; } = 1000;

    public TimeSpan Retention => TimeSpan.FromHours(RetentionHours);
}
