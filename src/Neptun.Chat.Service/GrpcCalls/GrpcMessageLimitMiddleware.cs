using Microsoft.AspNetCore.Http.Features;

namespace Neptun.Chat.Service.GrpcCalls;

/// <summary>
/// Leaves a native gRPC call to gRPC's own message limit (set to Kestrel's body limit), which reads
/// a message's length prefix first and answers RESOURCE_EXHAUSTED, as gRPC clients expect; Kestrel's
/// limit counts the whole body instead. A REST call keeps Kestrel's limit: the REST contract
/// enforces it with the web app's 413.
/// </summary>
public sealed class GrpcMessageLimitMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.IsGrpcCall() && !context.IsRestCall()
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        return next(context);
    }
}
