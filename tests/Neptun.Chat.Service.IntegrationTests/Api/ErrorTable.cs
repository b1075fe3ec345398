using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>A request and the row of the service's error table (<see cref="ApiErrors"/>) both surfaces must answer with.</summary>
public sealed record ErrorCase(string? Cookie, int UserId, int ProjectId, string Model, string Name, ApiError Expected)
{
    public string JsonBody => JsonSerializer.Serialize(new { model = Model, name = Name });

    public int HttpStatus => Expected.RestStatus;

    public StatusCode GrpcStatus => Expected.GrpcStatus!.Value;

    public string Message => Expected.Message;
}

/// <summary>
/// Requests that must fail, shared by the REST and the gRPC tests so both answer alike. The rows'
/// statuses and messages are read from the service's table; ErrorTableTests pins that table to
/// the web app's documented values and to the README.
/// </summary>
public static class ErrorTable
{
    private const string GoodName = "Project Discussion";
    private static readonly ApiError Unauthorized = ApiErrors.Unauthenticated;
    private static readonly ApiError InvalidBody = ApiErrors.InvalidBody;
    private static readonly ApiError InvalidPath = ApiErrors.InvalidPath;

    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var name in Cases(null).Keys)
        {
            names.Add(name);
        }

        return names;
    }

    public static ErrorCase Get(string name, NeptunApiFixture api) => Cases(api)[name];

    private static Dictionary<string, ErrorCase> Cases(NeptunApiFixture? api)
    {
        var ada = api?.AdaCookie;
        var adaProject = api?.AdaProjectId ?? 0;
        var graceProject = api?.GraceProjectId ?? 0;
        const int ada_ = NeptunApiFixture.AdaId;
        const string model = NeptunApiFixture.ValidModel;

        var cases = new Dictionary<string, ErrorCase>
        {
            ["no cookie"] = new(null, ada_, adaProject, model, GoodName, Unauthorized),
            ["no cookie and a bad body"] = new(null, ada_, adaProject, "", "ab", Unauthorized),
            ["no cookie and another user's path"] = new(null, NeptunApiFixture.GraceId, graceProject, model, GoodName, Unauthorized),
            ["model missing"] = new(ada, ada_, adaProject, "", GoodName, InvalidBody),
            ["model not in ai_model_enum"] = new(ada, ada_, adaProject, "openai/gpt-4o", GoodName, InvalidBody),
            ["model differs in case"] = new(ada, ada_, adaProject, "GOOGLE/gemma-2-27b-it", GoodName, InvalidBody),
            ["name missing"] = new(ada, ada_, adaProject, model, "", InvalidBody),
            ["name of 2 characters"] = new(ada, ada_, adaProject, model, "ab", InvalidBody),
            ["name of 257 characters"] = new(ada, ada_, adaProject, model, new string('x', 257), InvalidBody),
            ["name of 129 emoji (258 UTF-16 units)"] = new(ada, ada_, adaProject, model, string.Concat(Enumerable.Repeat("\U0001F600", 129)), InvalidBody),
            ["user id zero"] = new(ada, 0, adaProject, model, GoodName, InvalidPath),
            ["project id negative"] = new(ada, ada_, -5, model, GoodName, InvalidPath),
            ["bad body and another user's path"] = new(ada, NeptunApiFixture.GraceId, graceProject, "nope", GoodName, InvalidBody),
            ["another user's path"] = new(ada, NeptunApiFixture.GraceId, graceProject, model, GoodName, ApiErrors.PermissionDenied),
            ["another user's path and a missing project"] = new(ada, NeptunApiFixture.GraceId, int.MaxValue, model, GoodName, ApiErrors.PermissionDenied),
            ["another user's project"] = new(ada, ada_, graceProject, model, GoodName, ApiErrors.ProjectNotFound),
            ["a project that does not exist"] = new(ada, ada_, int.MaxValue, model, GoodName, ApiErrors.ProjectNotFound),
        };

        foreach (var vector in SessionVectors.CaseNames(authenticated: false))
        {
            cases[$"session vector {vector}"] = new(SessionVectors.CookieHeader(vector), ada_, adaProject, model, GoodName, Unauthorized);
        }

        return cases;
    }
}
