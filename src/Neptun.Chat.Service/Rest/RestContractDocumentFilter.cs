using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Models;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.V1;
using Neptun.Session;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Neptun.Chat.Service.Rest;

/// <summary>
/// Makes the document that Grpc.Swagger generates from the proto describe the REST route as it
/// really behaves (RestContractMiddleware): a body of <c>model</c>, <c>name</c> and <c>request_id</c>,
/// the <c>Idempotency-Key</c> header, 201 on success, the web app's error body for every status of
/// <see cref="ApiErrors"/>, and the session cookie.
/// </summary>
public sealed class RestContractDocumentFilter(AiModelCatalog models) : IDocumentFilter
{
    public const string CookieScheme = "neptun-session";
    public const string HeaderScheme = "neptun-session-header";
    private const string BodySchema = "CreateProjectChatBody";
    private const string ErrorSchema = "ErrorBody";
    private const string FieldViolationSchema = "FieldViolation";
    private const string RequestSchema = nameof(CreateProjectChatRequest);

    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        // Relative, so the document is right behind whatever host and port serve it.
        swaggerDoc.Servers = [new OpenApiServer { Url = "/", Description = "The service's REST endpoint (HTTP/1.1), or the web app's domain in front of it." }];

        var schemas = swaggerDoc.Components.Schemas;
        var request = schemas[RequestSchema];
        schemas[BodySchema] = BodySchemaFrom(request);
        schemas[FieldViolationSchema] = FieldViolationSchemaDefinition();
        schemas[ErrorSchema] = ErrorSchemaDefinition();
        DescribeChat(schemas[nameof(ChatConversation)]);
        schemas[nameof(CreateProjectChatResponse)].Required = new SortedSet<string> { "chat" };

        // What transcoding would write on its own (google.rpc.Status and its Any/Value family)
        // never reaches a REST caller.
        foreach (var unused in new[] { RequestSchema, "Status", "Any", "Value", "Struct", "ListValue", "NullValue", "KindOneofCase" })
        {
            schemas.Remove(unused);
        }

        swaggerDoc.Components.SecuritySchemes[CookieScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = SessionReaderOptions.CookieName,
            Description = "The Neptun web app's sealed session cookie (nuxt-auth-utils, iron Fe26.2).",
        };
        swaggerDoc.Components.SecuritySchemes[HeaderScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = SessionReaderOptions.HeaderName,
            Description = "The same sealed session in h3's header, which is read before the cookie.",
        };

        foreach (var path in swaggerDoc.Paths.Values)
        {
            foreach (var operation in path.Operations.Values)
            {
                DescribeOperation(operation, request);
            }
        }
    }

    private void DescribeOperation(OpenApiOperation operation, OpenApiSchema request)
    {
        operation.OperationId ??= nameof(ChatService.ChatServiceClient.CreateProjectChat);
        operation.Description ??= operation.Summary;
        foreach (var parameter in operation.Parameters.Where(parameter => parameter.In == ParameterLocation.Path))
        {
            parameter.Description ??= request.Properties.TryGetValue(parameter.Name, out var field) ? field.Description : null;
            parameter.Schema.Minimum = 1;
        }

        operation.Parameters.Add(new OpenApiParameter
        {
            Name = RequestIds.HeaderName,
            In = ParameterLocation.Header,
            Required = false,
            Description = "A request id (a UUID, bare or quoted), as `request_id` may also give it: the same user repeating a request with it within the retention gets the first answer, and nothing is written twice.",
            Schema = new OpenApiSchema { Type = "string", Format = "uuid" },
        });

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "`model` and `name` are required and `request_id` is optional; unknown fields are ignored, and the path's ids win over any in the body.",
            Content = { ["application/json"] = new OpenApiMediaType { Schema = Reference(BodySchema) } },
        };

        operation.Responses = new OpenApiResponses
        {
            ["201"] = new OpenApiResponse
            {
                Description = "The chat was created and linked to the project.",
                Content = { ["application/json"] = new OpenApiMediaType { Schema = Reference(nameof(CreateProjectChatResponse)) } },
            },
        };
        foreach (var rows in ApiErrors.All.GroupBy(error => error.RestStatus).OrderBy(rows => rows.Key))
        {
            var response = new OpenApiResponse
            {
                Description = string.Join("\n\n", rows.Select(error => $"`{error.Message}`: {error.Case}.")),
                Content = { ["application/json"] = new OpenApiMediaType { Schema = Reference(ErrorSchema) } },
            };
            if (rows.Contains(ApiErrors.TooManyRequests) || rows.Contains(ApiErrors.Unavailable))
            {
                response.Headers["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again: until the user's next window (429), or while the queue of creates is full (503).",
                    Schema = new OpenApiSchema { Type = "integer", Minimum = 1 },
                };
            }

            operation.Responses[rows.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)] = response;
        }

        operation.Security =
        [
            new OpenApiSecurityRequirement { [Reference(CookieScheme, ReferenceType.SecurityScheme)] = [] },
            new OpenApiSecurityRequirement { [Reference(HeaderScheme, ReferenceType.SecurityScheme)] = [] },
        ];
    }

    private OpenApiSchema BodySchemaFrom(OpenApiSchema request)
    {
        var model = request.Properties["model"];
        var name = request.Properties["name"];
        var requestId = request.Properties["request_id"];
        requestId.Format = "uuid";
        model.Enum = [.. KnownModels().Select(value => (IOpenApiAny)new OpenApiString(value))];
        name.MinLength = CreateProjectChatValidator.MinNameLength;
        name.MaxLength = CreateProjectChatValidator.MaxNameLength;
        return new OpenApiSchema
        {
            Type = "object",
            Description = "The chat to create.",
            Required = new SortedSet<string> { "model", "name" },
            Properties = new Dictionary<string, OpenApiSchema> { ["model"] = model, ["name"] = name, ["request_id"] = requestId },
        };
    }

    // The accepted models are the database's ai_model_enum, which the web app extends at run time;
    // OpenApiDocumentCache has the catalog read it, and builds the document again when it changes.
    private IReadOnlyCollection<string> KnownModels() => [.. (models.Current ?? []).Order(StringComparer.Ordinal)];

    private static void DescribeChat(OpenApiSchema chat)
    {
        chat.Required = new SortedSet<string>(chat.Properties.Keys);
        foreach (var time in new[] { "created_at", "updated_at" })
        {
            chat.Properties[time].Format = "date-time";
        }
    }

    private static OpenApiSchema FieldViolationSchemaDefinition() => new()
    {
        Type = "object",
        Required = new SortedSet<string> { "field", "description" },
        Properties = new Dictionary<string, OpenApiSchema>
        {
            ["field"] = new() { Type = "string", Description = "The request field, e.g. `name`." },
            ["description"] = new() { Type = "string", Description = "What is wrong with it." },
        },
    };

    private static OpenApiSchema ErrorSchemaDefinition() => new()
    {
        Type = "object",
        Description = "The Neptun web app's (h3's) error body.",
        Required = new SortedSet<string> { "statusCode", "statusMessage", "message" },
        Properties = new Dictionary<string, OpenApiSchema>
        {
            ["statusCode"] = new() { Type = "integer", Format = "int32", Description = "The HTTP status again." },
            ["statusMessage"] = new() { Type = "string", Description = "The status's reason phrase." },
            ["message"] = new() { Type = "string", Description = "What went wrong, for the caller; never internal detail." },
            ["data"] = new()
            {
                Type = "object",
                Description = "Present on a 400 that names the fields at fault.",
                Properties = new Dictionary<string, OpenApiSchema>
                {
                    ["fieldViolations"] = new() { Type = "array", Items = Reference(FieldViolationSchema) },
                },
            },
        },
    };

    private static OpenApiSchema Reference(string id) => new() { Reference = new OpenApiReference { Type = ReferenceType.Schema, Id = id } };

    private static OpenApiSecurityScheme Reference(string id, ReferenceType type) => new() { Reference = new OpenApiReference { Type = type, Id = id } };
}
