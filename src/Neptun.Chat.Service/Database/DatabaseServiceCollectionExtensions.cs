using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Neptun.Chat.Service.Database;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>The database: options, the one data source, the repository, the model list, the migrator and the schema watch.</summary>
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
            // It bounds the whole create (the queue too), not the database alone: a deployment that
            // still sets the old name would otherwise run with the default unawares.
            .Validate<IConfiguration>((_, configuration) => configuration[DatabaseOptions.RenamedTimeoutKey] is null, $"{DatabaseOptions.RenamedTimeoutKey} is now Database:CreateTimeoutSeconds.")
            .Validate(options => options.SchemaCheckIntervalSeconds > 0, "Database:SchemaCheckIntervalSeconds must be positive.")
            .Validate(options => options.CreateTimeoutSeconds is > 0 and <= DatabaseOptions.MaxCreateTimeoutSeconds,
                $"Database:CreateTimeoutSeconds must be a number of seconds above 0 and at most {DatabaseOptions.MaxCreateTimeoutSeconds}.")
            .Validate(options => options.MaxBatchSize >= 1 && options.MaxBatchWriters >= 1 && options.MaxQueuedCreates >= 1,
                "Database:MaxBatchSize, MaxBatchWriters and MaxQueuedCreates must be at least 1.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(NeptunDataSourceFactory.Create);
        services.AddSingleton<ChatRepository>();
        services.AddSingleton<AiModelCatalog>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<DatabaseSchemaState>();
        services.AddHostedService<DatabaseSchemaWatch>();
        return services;
    }
}
