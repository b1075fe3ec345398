using Microsoft.Extensions.DependencyInjection.Extensions;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Idempotency;

namespace Neptun.Chat.Service.Hosting;

public static class ChatServiceCollectionExtensions
{
    /// <summary>The database: options, the one data source, the repository and the migrator.</summary>
    public static IServiceCollection AddNeptunDatabase(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
            {
                var connectionString = configuration[DatabaseOptions.ConnectionStringVariable];
                if (!string.IsNullOrWhiteSpace(connectionString))
                {
                    options.ConnectionString = connectionString;
                }
            })
            .Validate(options => options.SchemaCheckIntervalSeconds > 0, "Database:SchemaCheckIntervalSeconds must be positive.")
            .Validate(options => options.MaxBatchSize >= 1 && options.MaxBatchWriters >= 1,
                "Database:MaxBatchSize and MaxBatchWriters must be at least 1.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(NeptunDataSourceFactory.Create);
        services.AddSingleton<ChatRepository>();
        services.AddSingleton<ChatBatchRepository>();
        services.AddSingleton<ChatCreateMetrics>();
        services.AddSingleton<ChatCreateQueue>();
        services.AddSingleton<AiModelCatalog>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<DatabaseSchemaState>();
        services.AddHostedService<DatabaseSchemaWatch>();

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
