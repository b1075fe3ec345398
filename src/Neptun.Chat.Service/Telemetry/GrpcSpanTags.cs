using System.Diagnostics;
using Grpc.AspNetCore.Server;

namespace Neptun.Chat.Service.Telemetry;

/// <summary>
/// Adds OpenTelemetry's rpc.* attributes to the request span of a gRPC method, native or
/// transcoded: the ASP.NET Core instrumentation leaves them out unless an experimental switch is set.
/// </summary>
public static class GrpcSpanTags
{
    public static void Enrich(Activity activity, HttpResponse response)
    {
        if (response.HttpContext.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not { } grpc)
        {
            return;
        }

        activity.SetTag("rpc.system", "grpc");
        activity.SetTag("rpc.service", grpc.Method.ServiceName);
        activity.SetTag("rpc.method", grpc.Method.Name);

        if (int.TryParse(GrpcResponseStatus.Read(response.HttpContext), out var code))
        {
            activity.SetTag("rpc.grpc.status_code", code);
        }
    }
}
