using System.Text.Json;

namespace Neptun.Chat.Service.Rest;

/// <summary>What JSON transcoding wrote for a failed call: a <c>google.rpc.Status</c> as JSON.</summary>
public sealed record GrpcStatusJson(int Code, string Message, IReadOnlyList<FieldViolation> FieldViolations)
{
    public static GrpcStatusJson Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            var code = root.TryGetProperty("code", out var codeElement) && codeElement.TryGetInt32(out var c) ? c : 0;
            var message = root.TryGetProperty("message", out var messageElement) && messageElement.ValueKind == JsonValueKind.String
                ? messageElement.GetString() ?? ""
                : "";
            return new GrpcStatusJson(code, message, ReadFieldViolations(root));
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // Transcoding's own messages may quote a caller's bytes that are not UTF-8 (a path
            // value, say); what it meant is still known from the HTTP status alone.
            return new GrpcStatusJson(0, "", []);
        }
    }

    private static List<FieldViolation> ReadFieldViolations(JsonElement root)
    {
        var violations = new List<FieldViolation>();
        if (!root.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Array)
        {
            return violations;
        }

        foreach (var detail in details.EnumerateArray())
        {
            if (detail.ValueKind != JsonValueKind.Object
                || !detail.TryGetProperty("fieldViolations", out var fieldViolations)
                || fieldViolations.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var violation in fieldViolations.EnumerateArray())
            {
                violations.Add(new FieldViolation(StringProperty(violation, "field"), StringProperty(violation, "description")));
            }
        }

        return violations;
    }

    private static string StringProperty(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() ?? ""
            : "";
}
