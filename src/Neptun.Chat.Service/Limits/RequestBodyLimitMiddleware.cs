using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Rest;

namespace Neptun.Chat.Service.Limits;

/// <summary>
/// Holds every call to Kestrel's body limit before anything parses it. A REST body is refused with
/// 413 when its Content-Length says it is too large, and otherwise read (at most limit + 1 bytes)
/// before transcoding sees it, since transcoding would report an over-long chunked body as bad JSON.
/// Native gRPC calls are left to gRPC's own message limit (set to the same size), which reads a
/// message's length prefix first and answers RESOURCE_EXHAUSTED, as gRPC clients expect.
/// </summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<KestrelServerOptions> kestrel)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.IsRestCall())
        {
            if (kestrel.Value.Limits.MaxRequestBodySize is { } limit && !await BufferWithinLimitAsync(context, limit))
            {
                await RestErrorBody.WriteAsync(context.Response, ApiErrors.PayloadTooLarge);
                return;
            }
        }
        else if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null
                 && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        await next(context);
    }

    private static async Task<bool> BufferWithinLimitAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return false;
        }

        var buffer = new MemoryStream();
        context.Response.RegisterForDispose(buffer);
        try
        {
            var chunk = new byte[8192];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return false;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false;
        }

        buffer.Position = 0;
        request.Body = buffer;
        return true;
    }
}
