using Google.Protobuf.Reflection;
using Google.Rpc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Idempotency;
using Neptun.Chat.Service.Session;
using Neptun.Chat.V1;
using Npgsql;

namespace Neptun.Chat.Service.Hosting;

public static class ChatServiceCollectionExtensions
{
    private const string ReadyTag = "ready";
    private const string LiveTag = "live";

    /// <summary>The gRPC health service name for liveness probes: the process answers, whatever the database does.</summary>
    public const string LivenessService = "liveness";

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
            .Validate(options => options.MaxBatchSize >= 1 && options.MaxBatchWriters >= 1 && options.MaxQueuedCreates >= 1,
                "Database:MaxBatchSize, MaxBatchWriters and MaxQueuedCreates must be at least 1.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(NeptunDataSourceFactory.Create);
        services.AddSingleton<ChatRepository>();
        services.AddSingleton<DatabaseFailures>();
        services.AddSingleton<ChatCreateMetrics>();
        services.AddSingleton<ChatCreateQueue>();
        services.AddHostedService<ChatCreateWriters>();
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

    /// <summary>gRPC with JSON transcoding, reflection and health; the session check guards ChatService only.</summary>
    public static IServiceCollection AddNeptunGrpc(this IServiceCollection services)
    {
        services.AddSingleton<ErrorInterceptor>();
        services.AddGrpc(options => options.Interceptors.Add<ErrorInterceptor>())
            .AddJsonTranscoding(options =>
            {
                // Lets transcoding write the field violations that InvalidArgument carries.
                options.TypeRegistry = TypeRegistry.FromMessages(BadRequest.Descriptor);
            })
            .AddServiceOptions<ChatApiService>(options => options.Interceptors.Add<SessionInterceptor>());
        services.AddGrpcReflection();

        services.AddGrpcHealthChecks(options =>
            {
                options.Services.Map("", check => check.Tags.Contains(ReadyTag));
                options.Services.Map(ChatService.Descriptor.FullName, check => check.Tags.Contains(ReadyTag));
                options.Services.Map(LivenessService, check => check.Tags.Contains(LiveTag));
            })
            // Answering at all is the liveness signal; an empty check set would report UNKNOWN.
            .AddCheck("process", () => HealthCheckResult.Healthy(), tags: [LiveTag])
            .AddNpgSql(
                sp => sp.GetRequiredService<NpgsqlDataSource>(),
                name: "database",
                tags: [ReadyTag],
                timeout: TimeSpan.FromSeconds(2))
            .AddCheck<DatabaseSchemaHealthCheck>("database-schema", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return services;
    }
}
