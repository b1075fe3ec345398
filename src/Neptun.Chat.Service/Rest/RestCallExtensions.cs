using Microsoft.AspNetCore.Grpc.JsonTranscoding;

namespace Neptun.Chat.Service.Rest;

public static class RestCallExtensions
{
    /// <summary>
    /// Whether the request was routed to the transcoded REST route rather than to native gRPC: the
    /// REST contract, the body limit and the rate limiter answer the two differently.
    /// </summary>
    public static bool IsRestCall(this HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null;
}
