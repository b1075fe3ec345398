using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace Neptun.Chat.Service.Rest;

/// <summary>One field a request got wrong, as the REST error body lists it under <c>data</c>.</summary>
public readonly record struct FieldViolation(string Field, string Description);

/// <summary>
/// Writes the web app's error body: <c>{"statusCode","statusMessage","message","data"?}</c>.
/// Plain characters stay plain (no <c>\u0027</c>), as h3 writes them.
/// </summary>
public static class RestErrorBody
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpResponse response, int statusCode, string message, IReadOnlyList<FieldViolation>? violations = null)
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
