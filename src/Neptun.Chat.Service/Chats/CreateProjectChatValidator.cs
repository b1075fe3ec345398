using Google.Rpc;
using Neptun.Chat.Service.Idempotency;
using Neptun.Chat.V1;

namespace Neptun.Chat.Service.Chats;

/// <summary>The web app's rules for a new chat, checked before anything touches the database.</summary>
public static class CreateProjectChatValidator
{
    public const int MinNameLength = 3;
    public const int MaxNameLength = 256;

    /// <summary>Path ids must name a row, so they must be positive (int32 is enforced by the proto).</summary>
    public static List<BadRequest.Types.FieldViolation> ValidatePath(CreateProjectChatRequest request)
    {
        var violations = new List<BadRequest.Types.FieldViolation>();
        if (request.UserId <= 0)
        {
            violations.Add(Violation("user_id", "must be a positive 32-bit integer"));
        }

        if (request.ProjectId <= 0)
        {
            violations.Add(Violation("project_id", "must be a positive 32-bit integer"));
        }

        return violations;
    }

    /// <summary>
    /// The body's shape. Whether the model is one of the database's enum values is checked
    /// separately, since that list lives in the database. Lengths are UTF-16 code units, as the
    /// web app's JavaScript counts them.
    /// </summary>
    public static List<BadRequest.Types.FieldViolation> ValidateBody(CreateProjectChatRequest request)
    {
        var violations = new List<BadRequest.Types.FieldViolation>();
        if (request.Model.Length == 0)
        {
            violations.Add(Violation("model", "is required"));
        }

        if (request.Name.Length < MinNameLength || request.Name.Length > MaxNameLength)
        {
            violations.Add(Violation("name", $"must be {MinNameLength} to {MaxNameLength} characters long"));
        }
        else if (!IsStorableText(request.Name))
        {
            violations.Add(Violation("name", "must be Unicode text without NUL characters"));
        }

        return violations;
    }

    /// <summary>
    /// PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate (which JSON's \ud800 escape can
    /// produce) has no UTF-8 form: either would fail or change in the database, never round-trip.
    /// </summary>
    private static bool IsStorableText(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf16(rest, out var rune, out var used) != System.Buffers.OperationStatus.Done || rune.Value == 0)
            {
                return false;
            }

            rest = rest[used..];
        }

        return true;
    }

    public static BadRequest.Types.FieldViolation InvalidRequestId() =>
        Violation("request_id", $"must be a UUID, the same in the field and the {RequestIds.HeaderName} header when both are given");

    public static BadRequest.Types.FieldViolation UnknownModel() => Violation("model", "is not a known AI model");

    private static BadRequest.Types.FieldViolation Violation(string field, string description) =>
        new() { Field = field, Description = description };
}
