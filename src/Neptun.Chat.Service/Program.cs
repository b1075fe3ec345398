using Neptun.Chat.Service;
using Neptun.Chat.Service.Chats;
using Neptun.Chat.Service.Database;
using Neptun.Chat.Service.GrpcCalls;
using Neptun.Chat.Service.HealthProbes;
using Neptun.Chat.Service.Hosting;
using Neptun.Chat.Service.Idempotency;
using Neptun.Chat.Service.Limits;
using Neptun.Chat.Service.Rest;
using Neptun.Chat.Service.Session;
using Neptun.Chat.Service.Telemetry;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddNeptunDatabase();
builder.Services.AddNeptunIdempotency();
builder.Services.AddNeptunSession();
builder.Services.AddNeptunGrpc();
builder.Services.AddNeptunChatService();
builder.Services.AddNeptunHealth();
builder.Services.AddNeptunRequestLimits();
builder.AddNeptunTelemetry();
builder.Services.AddNeptunOpenApi();
builder.Services.AddNeptunGracefulShutdown();

var app = builder.Build();

if (ServiceCommands.TryRun(app, args, out var exitCode))
{
    return exitCode;
}

app.MigrateDatabaseIfAsked();

// The request path, in the order a request meets it. Routing runs first (WebApplication adds it),
// so every step below knows the endpoint and whether the call is REST or native gRPC.
// The client's address from X-Forwarded-For, believed only from trusted proxies: the anonymous
// rate limit counts by it and the request log writes it.
app.UseForwardedHeaders();
// One log line per request, and a native call's gRPC status on the request metric; outermost,
// so that both see the status the caller really gets.
app.UseMiddleware<RequestLogMiddleware>();
// Probes and metrics answer on the operations port only, and nothing else does there (404).
app.UseOperationsPort();
// Readies a gRPC call before anything reads it: drops header names gRPC metadata cannot hold,
// gives native gRPC its own message limit, and reads the session once for the steps below.
app.UseMiddleware<GrpcCallMiddleware>();
// The web app's REST contract: 413 before anything parses the body, 415, 201, and the error
// table's body in place of transcoding's.
app.UseMiddleware<RestContractMiddleware>();
// Rate limits (429 / RESOURCE_EXHAUSTED): per signed-in user, and per client address for requests
// without a valid session; inside the REST contract, which writes the REST body.
app.UseRateLimiter();
// Endpoints. ChatService, gRPC and its REST route: ErrorInterceptor, then SessionInterceptor, then ChatApiService.
app.MapNeptunChatService();
app.MapGrpcReflectionService();
app.MapNeptunHealth();
app.MapNeptunMetrics();
// The OpenAPI document (and the API page in Development).
app.MapNeptunOpenApi();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the test host.</summary>
public partial class Program;
