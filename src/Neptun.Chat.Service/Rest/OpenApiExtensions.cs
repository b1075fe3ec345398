using Microsoft.OpenApi.Models;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.Rest;

public static class OpenApiExtensions
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string ApiPagePath = "api-docs";

    /// <summary>An OpenAPI 3 document of the REST route, generated from the proto and its comments.</summary>
    public static IServiceCollection AddNeptunOpenApi(this IServiceCollection services)
    {
        services.AddGrpcSwagger();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "Neptun chat service",
                Version = DocumentName,
                Description = "The Neptun web app's chat endpoint, served from the gRPC service neptun.chat.v1.ChatService by JSON transcoding.",
            });

            // Grpc.Tools writes the proto comments into the Contracts assembly's XML docs.
            var contractsXml = Path.ChangeExtension(typeof(ChatService).Assembly.Location, ".xml");
            if (File.Exists(contractsXml))
            {
                options.IncludeGrpcXmlComments(contractsXml, includeControllerXmlComments: true);
                options.IncludeXmlComments(contractsXml);
            }

            options.DocumentFilter<RestContractDocumentFilter>();
        });
        services.AddSingleton<OpenApiDocumentCache>();
        return services;
    }

    /// <summary>
    /// The document, from memory: on the public ports in Development (beside the API page), and
    /// elsewhere on the operations port only, since nobody calling the API needs it at run time.
    /// </summary>
    public static WebApplication MapNeptunOpenApi(this WebApplication app)
    {
        var document = app.MapGet(DocumentPath, async (OpenApiDocumentCache document, CancellationToken cancellationToken) =>
            Results.Bytes(await document.GetJsonAsync(cancellationToken), "application/json; charset=utf-8"));
        if (app.Environment.IsDevelopment())
        {
            app.UseSwaggerUI(options =>
            {
                options.RoutePrefix = ApiPagePath;
                options.SwaggerEndpoint(DocumentPath, "Neptun chat service");
            });
        }
        else
        {
            document.OnOperationsPort();
        }

        return app;
    }
}
