using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Neptun.Chat.Service.IntegrationTests.OpenApi;

/// <summary>The served OpenAPI document says what the REST route really does, and an existing validator accepts it.</summary>
public sealed class OpenApiDocumentTests(NeptunApiFixture api) : IClassFixture<NeptunApiFixture>
{
    private const string DocumentPath = "/openapi/v1.json";
    private const string RoutePath = "/api/users/{user_id}/projects/{project_id}/chats";

    // Pinned, so that a new release cannot change the verdict; run through npx like buf in lint-protos.sh.
    private const string RedoclyCli = "@redocly/cli@2.77.0";

    [Fact]
    public async Task The_route_has_snake_case_path_ids_the_idempotency_key_and_a_body_of_model_name_and_request_id_with_the_models_as_an_enum()
    {
        var document = await DocumentAsync();
        var operation = document.GetProperty("paths").GetProperty(RoutePath).GetProperty("post");

        var parameters = operation.GetProperty("parameters").EnumerateArray().ToList();
        Assert.Equal(["user_id:path", "project_id:path", "Idempotency-Key:header"], parameters.Select(p => $"{p.GetProperty("name").GetString()}:{p.GetProperty("in").GetString()}"));
        Assert.All(parameters, p => Assert.False(string.IsNullOrEmpty(p.GetProperty("description").GetString())));
        Assert.False(parameters[2].TryGetProperty("required", out var required) && required.GetBoolean());
        Assert.Equal("uuid", parameters[2].GetProperty("schema").GetProperty("format").GetString());

        Assert.True(operation.GetProperty("requestBody").GetProperty("required").GetBoolean());
        Assert.DoesNotContain("Only `model` and `name`", operation.GetProperty("requestBody").GetProperty("description").GetString(), StringComparison.Ordinal);
        var body = Resolve(document, operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["model", "name", "request_id"], body.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("uuid", body.GetProperty("properties").GetProperty("request_id").GetProperty("format").GetString());
        Assert.Equal(["model", "name"], body.GetProperty("required").EnumerateArray().Select(p => p.GetString()).Order());
        var models = body.GetProperty("properties").GetProperty("model").GetProperty("enum").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains(NeptunApiFixture.ValidModel, models);
        Assert.Equal(12, models.Count);
        var name = body.GetProperty("properties").GetProperty("name");
        Assert.Equal(3, name.GetProperty("minLength").GetInt32());
        Assert.Equal(256, name.GetProperty("maxLength").GetInt32());
        Assert.Contains("3 to 256", name.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Success_is_201_with_the_snake_case_chat_and_every_status_the_route_answers_has_the_web_apps_error_body()
    {
        var document = await DocumentAsync();
        var responses = document.GetProperty("paths").GetProperty(RoutePath).GetProperty("post").GetProperty("responses");

        Assert.Equal(
            ["201", "400", "401", "403", "404", "413", "415", "422", "429", "500", "503", "504"],
            responses.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.Contains("Invalid params(user_id, project_id)", responses.GetProperty("400").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(responses.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
        var created = Resolve(document, responses.GetProperty("201").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        var chat = Resolve(document, created.GetProperty("properties").GetProperty("chat"));
        Assert.Equal(
            ["created_at", "id", "model", "name", "neptun_user_id", "updated_at"],
            chat.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("date-time", chat.GetProperty("properties").GetProperty("created_at").GetProperty("format").GetString());

        foreach (var error in responses.EnumerateObject().Where(r => r.Name != "201"))
        {
            var schema = Resolve(document, error.Value.GetProperty("content").GetProperty("application/json").GetProperty("schema"));
            Assert.Equal(["data", "message", "statusCode", "statusMessage"], schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }

        Assert.False(document.GetProperty("components").GetProperty("schemas").TryGetProperty("Status", out _), "google.rpc.Status never reaches a REST caller");
    }

    [Fact]
    public async Task The_cookie_is_an_api_key_security_scheme_named_neptun_session()
    {
        var document = await DocumentAsync();
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("neptun-session");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("cookie", scheme.GetProperty("in").GetString());
        Assert.Equal("neptun-session", scheme.GetProperty("name").GetString());

        var security = document.GetProperty("paths").GetProperty(RoutePath).GetProperty("post").GetProperty("security");
        Assert.Contains(security.EnumerateArray(), requirement => requirement.TryGetProperty("neptun-session", out _));
    }

    [Fact]
    public async Task Redocly_lint_accepts_the_document()
    {
        var file = Path.Combine(Path.GetTempPath(), $"neptun-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, await api.Rest.GetStringAsync(new Uri(DocumentPath, UriKind.Relative)));
        try
        {
            var lint = new ProcessStartInfo("npx") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "--yes", RedoclyCli, "lint", "--format=stylish", file })
            {
                lint.ArgumentList.Add(argument);
            }

            using var process = Process.Start(lint)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.True(process.ExitCode == 0, $"redocly lint failed:\n{await output}\n{await errors}");
            Assert.Contains("Woohoo! Your API description is valid.", await output + await errors, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Outside_development_the_page_is_gone_and_the_document_is_on_the_operations_port_only()
    {
        using var page = await api.Rest.GetAsync(new Uri("/api-docs/index.html", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        await using var production = new ChatServiceFactory(api.Database.ConnectionString) { Environment = "Production" };
        using var client = production.CreateClient();
        using var hidden = await client.GetAsync(new Uri("/api-docs/index.html", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using var publicDocument = await client.GetAsync(new Uri(DocumentPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, publicDocument.StatusCode);

        using var operations = production.CreateOperationsClient();
        var document = JsonDocument.Parse(await operations.GetStringAsync(new Uri(DocumentPath, UriKind.Relative))).RootElement;
        var body = document.GetProperty("components").GetProperty("schemas").GetProperty("CreateProjectChatBody");
        Assert.Contains(NeptunApiFixture.ValidModel, body.GetProperty("properties").GetProperty("model").GetProperty("enum").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task The_document_is_built_once_and_a_new_model_rebuilds_it()
    {
        // A database of its own: the model added here must not reach the other tests' enum.
        var own = new NeptunApiFixture();
        await own.InitializeAsync();
        try
        {
            var first = await own.Rest.GetStringAsync(new Uri(DocumentPath, UriKind.Relative));
            var cache = own.Factory.Services.GetRequiredService<Rest.OpenApiDocumentCache>();
            var built = await cache.GetJsonAsync(CancellationToken.None);
            Assert.Same(built, await cache.GetJsonAsync(CancellationToken.None));

            // The web app adds a model: the catalog reads the enum again (at most once per refresh
            // interval, 0 s in tests) when a create names it, and the document follows.
            const string added = "test/openapi-added-model";
            await own.Database.ExecuteAsync($"ALTER TYPE ai_model_enum ADD VALUE IF NOT EXISTS '{added}'");
            using (var created = await own.PostChatAsync(own.AdaCookie, NeptunApiFixture.AdaId, own.AdaProjectId, $$"""{"model": "{{added}}", "name": "New model"}"""))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }

            var second = await own.Rest.GetStringAsync(new Uri(DocumentPath, UriKind.Relative));
            Assert.DoesNotContain(added, first, StringComparison.Ordinal);
            Assert.Contains(added, second, StringComparison.Ordinal);
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    private async Task<JsonElement> DocumentAsync() =>
        JsonDocument.Parse(await api.Rest.GetStringAsync(new Uri(DocumentPath, UriKind.Relative))).RootElement.Clone();

    private static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!["#/components/schemas/".Length..])
            : schema;
}
