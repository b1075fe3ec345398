using Google.Protobuf.Reflection;
using Google.Rpc;

namespace Neptun.Chat.Service.GrpcCalls;

public static class GrpcServiceCollectionExtensions
{
    /// <summary>gRPC with JSON transcoding and server reflection; every call meets the error interceptor first.</summary>
    public static IServiceCollection AddNeptunGrpc(this IServiceCollection services)
    {
        services.AddSingleton<ErrorInterceptor>();
        services.AddGrpc(options => options.Interceptors.Add<ErrorInterceptor>())
            .AddJsonTranscoding(options =>
            {
                // Transcoding writes the BadRequest details of a refusal before the REST contract
                // replaces its body, and fails on an Any whose type it does not know.
                options.TypeRegistry = TypeRegistry.FromMessages(BadRequest.Descriptor);
            });
        services.AddGrpcReflection();
        return services;
    }
}
