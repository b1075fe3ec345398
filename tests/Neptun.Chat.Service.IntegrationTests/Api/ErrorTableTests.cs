using System.Reflection;
using System.Text.RegularExpressions;
using Grpc.Core;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.IntegrationTests.Infrastructure;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>
/// The service's error table (<see cref="ApiErrors"/>) holds the web app's documented values, and
/// README.md's "### Errors" table is the same table, row for row, both ways.
/// </summary>
public sealed partial class ErrorTableTests
{
    [Fact]
    public void The_table_holds_the_web_apps_documented_statuses_and_messages()
    {
        // Written out here on purpose: the documented contract, not a copy of the code.
        string[] documented =
        [
            "401 Unauthenticated Unauthorized",
            "400 InvalidArgument Invalid body(model, name) [model,name,request_id]",
            "400 InvalidArgument Invalid params(user_id, project_id) [user_id,project_id]",
            "415 - Content-Type must be application/json",
            "403 PermissionDenied Forbidden",
            "404 NotFound Project not found",
            "422 FailedPrecondition This request id was already used for a different request",
            "413 ResourceExhausted Request body too large",
            "429 ResourceExhausted Too Many Requests",
            "503 Unavailable Service Unavailable",
            "504 DeadlineExceeded The chat may have been created; retry with the same request id to find out",
            "500 Internal Internal Server Error",
        ];

        Assert.Equal(documented.Order(), ApiErrors.All.Select(Describe).Order());
    }

    [Fact]
    public void Every_row_declared_is_in_the_list_the_surfaces_read()
    {
        var declared = typeof(ApiErrors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.FieldType == typeof(ApiError))
            .Select(field => (ApiError)field.GetValue(null)!);

        Assert.Equal(declared.OrderBy(Describe), ApiErrors.All.OrderBy(Describe));
    }

    [Fact]
    public void The_readme_error_table_is_the_code_table_both_ways()
    {
        var inReadme = ReadmeRows().ToList();
        var inCode = ApiErrors.All.Select(ReadmeRow).ToList();

        Assert.Empty(inCode.Except(inReadme)); // a row the README lacks or words differently
        Assert.Empty(inReadme.Except(inCode)); // a row the code lacks
        Assert.Equal(inCode.Count, inReadme.Count); // a row written twice
        Assert.NotEmpty(inReadme);
    }

    private static string Describe(ApiError error) =>
        $"{error.RestStatus} {error.GrpcStatus?.ToString() ?? "-"} {error.Message}" + (error.Fields.Length > 0 ? $" [{string.Join(',', error.Fields)}]" : "");

    /// <summary>A row as the README writes it: case | HTTP | gRPC | message | field violations.</summary>
    private static string ReadmeRow(ApiError error) => string.Join(" | ",
        error.Case,
        error.RestStatus,
        error.GrpcStatus is { } status ? GrpcName(status) : "—",
        $"`{error.Message}`",
        error.Fields.Length > 0 ? string.Join(", ", error.Fields.Select(field => $"`{field}`")) : "—");

    // StatusCode.PermissionDenied -> PERMISSION_DENIED, as gRPC documents its codes.
    private static string GrpcName(StatusCode status) => UpperCaseStart().Replace(status.ToString(), "_$1").ToUpperInvariant();

    private static IEnumerable<string> ReadmeRows()
    {
        var lines = File.ReadAllLines(RepositoryFiles.Find("README.md"));
        // The section headed "Errors", at whatever level the README puts it, up to the next heading.
        var section = lines.SkipWhile(line => !(line.StartsWith('#') && line.TrimStart('#').Trim() == "Errors")).Skip(1).TakeWhile(line => !line.StartsWith('#'));
        var rows = section.Where(line => line.StartsWith('|')).Skip(2); // the header and its rule
        foreach (var row in rows)
        {
            yield return string.Join(" | ", row.Trim().Trim('|').Split('|').Select(cell => cell.Trim()));
        }
    }

    [GeneratedRegex("(?<=[a-z])([A-Z])")]
    private static partial Regex UpperCaseStart();
}
