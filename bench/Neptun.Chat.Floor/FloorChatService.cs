using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Neptun.Chat.V1;

namespace Neptun.Chat.Floor;

/// <summary>
/// CreateProjectChat doing nothing: a call without a Cookie header is refused, any other gets the
/// same fixed chat. The answer is as large as the service's for the load generators' request, and
/// REST answers 201 as the service does, so that the framework's work per request is the same.
/// </summary>
public sealed class FloorChatService : ChatService.ChatServiceBase
{
    // An id and a user id with as many digits as the benchmark's, times with microseconds as the database's.
    private static readonly Timestamp CreatedAt = new() { Seconds = 1_710_928_800, Nanos = 123_456_000 };
    private static readonly CreateProjectChatResponse FixedChat = new()
    {
        Chat = new ChatConversation
        {
            Id = 200_001,
            NeptunUserId = 500,
            Model = "google/gemma-2-27b-it",
            Name = "Benchmark chat",
            CreatedAt = CreatedAt,
            UpdatedAt = CreatedAt,
        },
    };

    public override Task<CreateProjectChatResponse> CreateProjectChat(CreateProjectChatRequest request, ServerCallContext context)
    {
        // From the HTTP headers, as the service reads its cookie: gRPC's RequestHeaders would copy
        // every header of the request into a Metadata list first.
        var httpContext = context.GetHttpContext();
        if (httpContext.Request.Headers.Cookie.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Unauthorized"));
        }

        // Transcoding writes 200 whatever the method sets; a callback when the answer starts is
        // the cheapest way to 201 (the service buffers the body in a middleware for its errors).
        if (httpContext.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null)
        {
            httpContext.Response.OnStarting(SetCreated, httpContext.Response);
        }

        return Task.FromResult(FixedChat);
    }

    private static Task SetCreated(object response)
    {
        ((HttpResponse)response).StatusCode = StatusCodes.Status201Created;
        return Task.CompletedTask;
    }
}
