using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;

namespace Neptun.Chat.Service.GrpcCalls;

/// <summary>Which kind of call a request was routed to, from its endpoint's metadata.</summary>
public static class GrpcCallExtensions
{
    /// <summary>Whether the request calls a gRPC method, natively or through its transcoded REST route.</summary>
    public static bool IsGrpcCall(this HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;

    /// <summary>
    /// Whether the request was routed to the transcoded REST route rather than to native gRPC: the
    /// REST contract, the body limit and the rate limiter answer the two differently.
    /// </summary>
    public static bool IsRestCall(this HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null;
}
