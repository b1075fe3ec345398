using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Neptun.Chat.Service.Errors;
using FieldViolation = Google.Rpc.BadRequest.Types.FieldViolation;

namespace Neptun.Chat.Service.Rest;

/// <summary>
/// Writes the web app's error body: <c>{"statusCode","statusMessage","message","data"?}</c>.
/// Plain characters stay plain (no <c>\u0027</c>), as h3 writes them.
/// </summary>
public static class RestErrorBody
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A row of the error table, with the fields it names under <c>data.fieldViolations</c>.</summary>
    public static Task WriteAsync(HttpResponse response, ApiError error, IReadOnlyList<FieldViolation>? violations = null) =>
        WriteAsync(response, error.RestStatus, error.Message, violations);

    /// <summary>A status outside the table: its reason phrase is all the caller learns.</summary>
    public static Task WriteAsync(HttpResponse response, int statusCode) =>
        WriteAsync(response, statusCode, ReasonPhrases.GetReasonPhrase(statusCode), null);

    private static async Task WriteAsync(HttpResponse response, int statusCode, string message, IReadOnlyList<FieldViolation>? violations)
    {
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = null;

        await using var writer = new Utf8JsonWriter(response.BodyWriter, WriterOptions);
        writer.WriteStartObject();
        writer.WriteNumber("statusCode", statusCode);
        writer.WriteString("statusMessage", ReasonPhrases.GetReasonPhrase(statusCode));
        writer.WriteString("message", message);
        if (violations is { Count: > 0 })
        {
            writer.WriteStartObject("data");
            writer.WriteStartArray("fieldViolations");
            foreach (var violation in violations)
            {
                writer.WriteStartObject();
                writer.WriteString("field", violation.Field);
                writer.WriteString("description", violation.Description);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        await writer.FlushAsync(response.HttpContext.RequestAborted);
    }
}
