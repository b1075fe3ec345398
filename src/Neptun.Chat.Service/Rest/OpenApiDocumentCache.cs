using Microsoft.OpenApi.Writers;
using Neptun.Chat.Service.Database;
using Npgsql;
using Swashbuckle.AspNetCore.Swagger;

namespace Neptun.Chat.Service.Rest;

/// <summary>
/// The OpenAPI document, built once and served from memory; built again only when the database's
/// model list (the body's <c>model</c> enum) has changed. Asking for it costs no thread and, once
/// the model list is known, no database work; before that, at most one attempt to read the list
/// each <see cref="ModelRetryInterval"/>.
/// </summary>
public sealed class OpenApiDocumentCache(ISwaggerProvider swagger, AiModelCatalog models, TimeProvider time, ILogger<OpenApiDocumentCache> logger)
{
    private static readonly TimeSpan ModelLookupBudget = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ModelRetryInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _building = new(1, 1);
    private volatile Built? _built;
    private long _lastModelAttempt = long.MinValue;

    public async Task<byte[]> GetJsonAsync(CancellationToken cancellationToken)
    {
        var known = models.Current ?? await TryReadModelsAsync(cancellationToken);
        if (_built is { } built && ReferenceEquals(built.Models, known))
        {
            return built.Json;
        }

        await _building.WaitAsync(cancellationToken);
        try
        {
            known = models.Current;
            if (_built is not { } current || !ReferenceEquals(current.Models, known))
            {
                // RestContractDocumentFilter reads the same list, from the catalog's memory.
                current = new Built(known, Serialize(swagger.GetSwagger(OpenApiExtensions.DocumentName)));
                _built = current;
            }

            return current.Json;
        }
        finally
        {
            _building.Release();
        }
    }

    private async Task<IReadOnlyCollection<string>?> TryReadModelsAsync(CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref _lastModelAttempt);
        if (last != long.MinValue && time.GetElapsedTime(last) < ModelRetryInterval
            || Interlocked.CompareExchange(ref _lastModelAttempt, time.GetTimestamp(), last) != last)
        {
            return null;
        }

        try
        {
            using var timeout = DatabaseCancellation.After(ModelLookupBudget, cancellationToken);
            await models.GetModelsAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or NpgsqlException or TimeoutException)
        {
            Log.OpenApiModelsUnavailable(logger, exception.GetType().Name);
        }

        return models.Current;
    }

    private static byte[] Serialize(Microsoft.OpenApi.Models.OpenApiDocument document)
    {
        using var buffer = new MemoryStream();
        using (var text = new StreamWriter(buffer))
        {
            document.SerializeAsV3(new OpenApiJsonWriter(text));
        }

        return buffer.ToArray();
    }

    private sealed record Built(IReadOnlyCollection<string>? Models, byte[] Json);
}
