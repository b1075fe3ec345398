using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Chat.V1;
using Npgsql;
using FieldViolation = Google.Rpc.BadRequest.Types.FieldViolation;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// ChatService. Checks run in the documented order: the session (interceptor), then the request
/// itself, then whether the path's user is the session's, then ownership of the project.
/// </summary>
public sealed class ChatApiService(
    ChatCreateQueue creates,
    AiModelCatalog models,
    DatabaseFailures failures,
    IOptions<DatabaseOptions> database,
    DatabaseSchemaState schema,
    ILogger<ChatApiService> logger)
    : ChatService.ChatServiceBase
{
    private readonly TimeSpan _createTimeout = TimeSpan.FromSeconds(database.Value.CreateTimeoutSeconds);

    public override async Task<CreateProjectChatResponse> CreateProjectChat(CreateProjectChatRequest request, ServerCallContext context)
    {
        var user = context.GetSessionUser();

        // One deadline for the whole create, fixed on arrival: the model lookup, the queue and the
        // statement share it; the arrival also tells whether the answer speaks of an outage (below).
        var arrived = Stopwatch.GetTimestamp();
        var deadline = Deadline.ForCall(arrived, _createTimeout, context.Deadline);

        var pathViolations = CreateProjectChatValidator.ValidatePath(request);
        if (pathViolations.Count > 0)
        {
            throw ChatErrors.InvalidPath(pathViolations);
        }

        // Not migrated for this version: every create would fail on a missing table, so none is tried.
        if (schema.Status == SchemaStatus.Behind)
        {
            throw ChatErrors.Unavailable();
        }

        var bodyViolations = CreateProjectChatValidator.ValidateBody(request);
        // From the HTTP headers, which carry native gRPC metadata too: reading gRPC's RequestHeaders
        // would copy every header of the request into a Metadata list first.
        if (!RequestIds.TryRead(request, context.GetHttpContext().Request.Headers[RequestIds.HeaderName], out var requestId))
        {
            bodyViolations.Add(CreateProjectChatValidator.InvalidRequestId());
        }

        if (bodyViolations.Count == 0 && !await IsKnownModelAsync(request.Model, deadline, context.CancellationToken))
        {
            bodyViolations.Add(CreateProjectChatValidator.UnknownModel());
        }

        if (bodyViolations.Count > 0)
        {
            throw ChatErrors.InvalidBody(bodyViolations);
        }

        if (request.UserId != user.Id)
        {
            throw ChatErrors.PermissionDenied();
        }

        var newChat = new NewProjectChat(
            user.Id, request.ProjectId, request.Model, request.Name, requestId, requestId is null ? null : RequestIds.Fingerprint(request));
        ReturnedChat? creation;
        try
        {
            creation = await creates.CreateAsync(newChat, deadline, context.CancellationToken);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The caller went away or its own deadline passed: gRPC's own statuses, which a client
            // reads as "may have completed" (the create may be in a statement that commits).
            throw new RpcException(context.GetHttpContext().RequestAborted.IsCancellationRequested
                ? Status.DefaultCancelled
                : new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
        }
        catch (ApiException refusal)
        {
            failures.CountOutageRefusal(refusal);
            throw;
        }

        failures.DatabaseAnswered(arrived);

        if (creation is null)
        {
            throw ChatErrors.ProjectNotFound();
        }

        if (!creation.SameRequest)
        {
            throw ChatErrors.RequestIdReused();
        }

        if (creation.Replayed)
        {
            Log.ChatReplayed(logger, creation.Chat.Id, user.Id);
        }
        else
        {
            Log.ChatCreated(logger, creation.Chat.Id, user.Id, request.ProjectId);
        }

        return new CreateProjectChatResponse { Chat = ToMessage(creation.Chat) };
    }

    private async ValueTask<bool> IsKnownModelAsync(string model, Deadline deadline, CancellationToken callerGone)
    {
        // Almost every create names a model already known: no timer, no lookup.
        if (models.IsKnownWithoutLookup(model))
        {
            return true;
        }

        using var timeout = DatabaseCancellation.After(deadline.Remaining, callerGone);
        try
        {
            return await models.IsKnownAsync(model, timeout.Token);
        }
        catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException or TimeoutException && !callerGone.IsCancellationRequested)
        {
            var refusal = failures.ToRpcException(exception, timedOut: timeout.IsCancellationRequested);
            failures.CountOutageRefusal(refusal);
            throw refusal;
        }
    }

    private static ChatConversation ToMessage(ChatRecord chat) => new()
    {
        Id = chat.Id,
        NeptunUserId = chat.NeptunUserId,
        Model = chat.Model,
        Name = chat.Name,
        CreatedAt = Timestamp.FromDateTime(chat.CreatedAt),
        UpdatedAt = Timestamp.FromDateTime(chat.UpdatedAt),
    };
}

/// <summary>The web app's rules for a new chat, checked before anything touches the database.</summary>
public static class CreateProjectChatValidator
{
    public const int MinNameLength = 3;
    public const int MaxNameLength = 256;

    /// <summary>Path ids must name a row, so they must be positive (int32 is enforced by the proto).</summary>
    public static List<FieldViolation> ValidatePath(CreateProjectChatRequest request)
    {
        var violations = new List<FieldViolation>();
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
    public static List<FieldViolation> ValidateBody(CreateProjectChatRequest request)
    {
        var violations = new List<FieldViolation>();
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

    public static FieldViolation InvalidRequestId() =>
        Violation("request_id", $"must be a UUID, the same in the field and the {RequestIds.HeaderName} header when both are given");

    public static FieldViolation UnknownModel() => Violation("model", "is not a known AI model");

    private static FieldViolation Violation(string field, string description) =>
        new() { Field = field, Description = description };
}

/// <summary>
/// The request id of an idempotent create: the request's <c>request_id</c> (AIP-155) or, for REST
/// callers, the <c>Idempotency-Key</c> header (IETF httpapi draft), which is a structured-field
/// string and so may come quoted.
/// </summary>
public static class RequestIds
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>
    /// False when an id is given but is not a UUID, or when the field and the <see cref="HeaderName"/>
    /// header (<paramref name="header"/>: its values, none when absent) disagree.
    /// </summary>
    public static bool TryRead(CreateProjectChatRequest request, StringValues header, out Guid? requestId)
    {
        requestId = null;
        Guid? fromBody = null;
        Guid? fromHeader = null;
        if (request.RequestId.Length > 0)
        {
            if (!TryParse(request.RequestId, out var id))
            {
                return false;
            }

            fromBody = id;
        }

        if (header.Count > 1)
        {
            return false;
        }

        if (header.Count == 1)
        {
            if (!TryParse(Unquote(header[0]!.Trim()), out var id))
            {
                return false;
            }

            fromHeader = id;
        }

        if (fromBody is not null && fromHeader is not null && fromBody != fromHeader)
        {
            return false;
        }

        requestId = fromBody ?? fromHeader;
        return true;
    }

    /// <summary>
    /// What the request asks for, apart from the user (who is part of the key): a repeated id with
    /// another fingerprint is a different request. Fields are length-prefixed so that no two
    /// requests share an encoding.
    /// </summary>
    public static byte[] Fingerprint(CreateProjectChatRequest request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, request.ProjectId);
        hash.AppendData(number);
        foreach (var text in (ReadOnlySpan<string>)[request.Model, request.Name])
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BinaryPrimitives.WriteInt32BigEndian(number, bytes.Length);
            hash.AppendData(number);
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset();
    }

    private static bool TryParse(string text, out Guid id) => Guid.TryParseExact(text, "D", out id);

    private static string Unquote(string text) =>
        text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1] : text;
}
