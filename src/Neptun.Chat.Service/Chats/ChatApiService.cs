using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.Errors;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Chat.Service.Idempotency;
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
    DatabaseFailures failures,
    IOptions<DatabaseOptions> database,
    DatabaseSchemaState schema,
    ILogger<ChatApiService> logger)
    : ChatService.ChatServiceBase
{
    public override async Task<CreateProjectChatResponse> CreateProjectChat(CreateProjectChatRequest request, ServerCallContext context)
    {
        var user = context.GetSessionUser();

        // One deadline for the whole create, fixed now: the model lookup, the queue and the statement share it.
        var deadline = Deadline.ForCall(TimeSpan.FromSeconds(database.Value.RequestTimeoutSeconds), context.Deadline);

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
        ChatCreation? creation;
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

        failures.DatabaseAnswered();

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

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(callerGone);
        timeout.CancelAfter(deadline.Remaining);
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
