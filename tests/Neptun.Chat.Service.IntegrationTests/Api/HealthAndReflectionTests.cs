using System.Net;
using Grpc.Health.V1;
using Grpc.Reflection.V1;

namespace Neptun.Chat.Service.IntegrationTests.Api;

/// <summary>Probes and reflection work without a cookie, and health follows the database.</summary>
public sealed class HealthAndReflectionTests(NeptunApiFixture api) : IClassFixture<NeptunApiFixture>
{
    [Theory]
    [InlineData("")]
    [InlineData("neptun.chat.v1.ChatService")]
    public async Task Grpc_health_is_serving_while_the_database_answers(string service)
    {
        var health = new Health.HealthClient(api.Factory.CreateGrpcChannel());

        var reply = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("neptun.chat.v1.ChatService")]
    public async Task Grpc_health_is_not_serving_while_the_database_is_unreachable(string service)
    {
        await using var factory = UnreachableDatabase.CreateFactory();
        var health = new Health.HealthClient(factory.CreateGrpcChannel());

        var reply = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, reply.Status);
    }

    [Fact]
    public async Task Grpc_liveness_is_serving_while_the_database_is_unreachable()
    {
        // Kubernetes' gRPC liveness probe asks for "liveness": a database outage must not restart pods.
        await using var factory = UnreachableDatabase.CreateFactory();
        var health = new Health.HealthClient(factory.CreateGrpcChannel());

        var reply = await health.CheckAsync(new HealthCheckRequest { Service = "liveness" });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Http_probes_tell_live_from_ready()
    {
        await using var factory = UnreachableDatabase.CreateFactory();
        using var client = factory.CreateOperationsClient();
        using var healthy = api.Factory.CreateOperationsClient();

        Assert.Equal(HttpStatusCode.OK, (await healthy.GetAsync("/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/healthz/ready")).StatusCode);
    }

    [Fact]
    public async Task Reflection_v1_lists_the_chat_service()
    {
        var reflection = new ServerReflection.ServerReflectionClient(api.Factory.CreateGrpcChannel());
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("neptun.chat.v1.ChatService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task Reflection_v1alpha_describes_the_chat_service_file()
    {
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(api.Factory.CreateGrpcChannel());
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { FileContainingSymbol = "neptun.chat.v1.ChatService" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto;
        Assert.NotEmpty(files);
        var file = Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(files[0]);
        Assert.Equal("neptun.chat.v1", file.Package);
    }
}
