namespace Neptun.Chat.Service.Idempotency;

public static class IdempotencyServiceCollectionExtensions
{
    /// <summary>How long request ids are kept, and the purge that deletes them afterwards.</summary>
    public static IServiceCollection AddNeptunIdempotency(this IServiceCollection services)
    {
        services.AddOptions<IdempotencyOptions>()
            .BindConfiguration(IdempotencyOptions.SectionName)
            .Validate(options => options.RetentionHours > 0 && options.PurgeIntervalSeconds > 0 && options.PurgeBatchSize > 0,
                "Idempotency:RetentionHours, PurgeIntervalSeconds and PurgeBatchSize must be positive.")
            .ValidateOnStart();
        services.AddSingleton<ExpiredRequestIdPurge>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiredRequestIdPurge>());
        return services;
    }
}
