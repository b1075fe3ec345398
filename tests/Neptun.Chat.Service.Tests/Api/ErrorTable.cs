using System.Text.Json;
using Grpc.Core;
using Neptun.Chat.Service.Tests.Infrastructure;

namespace Neptun.Chat.Service.Tests.Api;

/// <summary>One row of the documented error table, as a request and what both surfaces must answer.</summary>
public sealed record ErrorCase(string? Cookie, int UserId, int ProjectId, string Model, string Name, int HttpStatus, StatusCode GrpcStatus, string Message)
{
    public string JsonBody => JsonSerializer.Serialize(new { model = Model, name = Name });
}

/// <summary>The error table of the API, shared by the REST and the gRPC tests so both answer alike.</summary>
public static class ErrorTable
{
    private const string GoodName = "Project Discussion";
    private const string Unauthorized = "Unauthorized";
    private const string InvalidBody = "Invalid body(model, name)";
    private const string InvalidPath = "Invalid params(user_id, project_id)";

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
            ["no cookie"] = new(null, ada_, adaProject, model, GoodName, 401, StatusCode.Unauthenticated, Unauthorized),
            ["no cookie and a bad body"] = new(null, ada_, adaProject, "", "ab", 401, StatusCode.Unauthenticated, Unauthorized),
            ["no cookie and another user's path"] = new(null, NeptunApiFixture.GraceId, graceProject, model, GoodName, 401, StatusCode.Unauthenticated, Unauthorized),
            ["model missing"] = new(ada, ada_, adaProject, "", GoodName, 400, StatusCode.InvalidArgument, InvalidBody),
            ["model not in ai_model_enum"] = new(ada, ada_, adaProject, "openai/gpt-4o", GoodName, 400, StatusCode.InvalidArgument, InvalidBody),
            ["model differs in case"] = new(ada, ada_, adaProject, "GOOGLE/gemma-2-27b-it", GoodName, 400, StatusCode.InvalidArgument, InvalidBody),
            ["name missing"] = new(ada, ada_, adaProject, model, "", 400, StatusCode.InvalidArgument, InvalidBody),
            ["name of 2 characters"] = new(ada, ada_, adaProject, model, "ab", 400, StatusCode.InvalidArgument, InvalidBody),
            ["name of 257 characters"] = new(ada, ada_, adaProject, model, new string('x', 257), 400, StatusCode.InvalidArgument, InvalidBody),
            ["name of 129 emoji (258 UTF-16 units)"] = new(ada, ada_, adaProject, model, string.Concat(Enumerable.Repeat("\U0001F600", 129)), 400, StatusCode.InvalidArgument, InvalidBody),
            ["user id zero"] = new(ada, 0, adaProject, model, GoodName, 400, StatusCode.InvalidArgument, InvalidPath),
            ["project id negative"] = new(ada, ada_, -5, model, GoodName, 400, StatusCode.InvalidArgument, InvalidPath),
            ["bad body and another user's path"] = new(ada, NeptunApiFixture.GraceId, graceProject, "nope", GoodName, 400, StatusCode.InvalidArgument, InvalidBody),
            ["another user's path"] = new(ada, NeptunApiFixture.GraceId, graceProject, model, GoodName, 403, StatusCode.PermissionDenied, "Forbidden"),
            ["another user's path and a missing project"] = new(ada, NeptunApiFixture.GraceId, int.MaxValue, model, GoodName, 403, StatusCode.PermissionDenied, "Forbidden"),
            ["another user's project"] = new(ada, ada_, graceProject, model, GoodName, 404, StatusCode.NotFound, "Project not found"),
            ["a project that does not exist"] = new(ada, ada_, int.MaxValue, model, GoodName, 404, StatusCode.NotFound, "Project not found"),
        };

        foreach (var vector in SessionVectors.CaseNames(authenticated: false))
        {
            cases[$"session vector {vector}"] = new(SessionVectors.CookieHeader(vector), ada_, adaProject, model, GoodName, 401, StatusCode.Unauthenticated, Unauthorized);
        }

        return cases;
    }
}
