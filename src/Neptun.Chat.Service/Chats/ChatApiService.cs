using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Idempotency;
using Neptun.Chat.Service.Session;
using Neptun.Chat.V1;
using Npgsql;

namespace Neptun.Chat.Service.Chats;

/// <summary>
/// ChatService. Checks run in the documented order: the session (interceptor), then the request
/// itself, then whether the path's user is the session's, then ownership of the project.
/// </summary>
public sealed class ChatApiService(
    ChatCreateQueue creates,
    AiModelCatalog models,
    IOptions<DatabaseOptions> database,
    DatabaseSchemaState schema,
    ILogger<ChatApiService> logger)
    : ChatService.ChatServiceBase
{
    public override async Task<CreateProjectChatResponse> CreateProjectChat(CreateProjectChatRequest request, ServerCallContext context)
    {
        var user = context.GetSessionUser();
        using var databaseTime = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        databaseTime.CancelAfter(TimeSpan.FromSeconds(database.Value.RequestTimeoutSeconds));
        var cancellationToken = databaseTime.Token;

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

        try
        {
            var bodyViolations = CreateProjectChatValidator.ValidateBody(request);
            if (!RequestIds.TryRead(request, context.RequestHeaders, out var requestId))
            {
                bodyViolations.Add(CreateProjectChatValidator.InvalidRequestId());
            }

            if (bodyViolations.Count == 0 && !await models.IsKnownAsync(request.Model, cancellationToken))
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
            var creation = await creates.CreateAsync(newChat, cancellationToken)
                ?? throw ChatErrors.ProjectNotFound();

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
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable && schema.Status != SchemaStatus.Current)
        {
            // A create before the schema was first read (at start, or while the database was away):
            // the missing table is the migration the check is about to report, not a broken call.
            throw ChatErrors.Unavailable();
        }
        catch (NpgsqlException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw DatabaseFailures.ToRpcException(exception, logger);
        }
        catch (Exception exception) when (exception is OperationCanceledException or NpgsqlException && !context.CancellationToken.IsCancellationRequested)
        {
            // The database took longer than the request may wait (a full pool, a slow server).
            Log.DatabaseTimedOut(logger, database.Value.RequestTimeoutSeconds);
            throw ChatErrors.Unavailable();
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
