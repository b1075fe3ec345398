using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Neptun.Chat.Floor;

// The framework with nothing of the service's: no logging, no database, no middleware; the
// endpoints and their protocols come from appsettings.json (bench/run.sh sets the ports).
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddGrpc().AddJsonTranscoding();
// The service's transport settings, read as the service reads them (bench/run.sh passes the same environment).
builder.Services.AddOptions<SocketTransportOptions>().BindConfiguration("SocketTransport");

var app = builder.Build();
app.MapGrpcService<FloorChatService>();
// bench/run.sh waits for this, as it does for the service's readiness.
app.MapGet("/healthz/ready", () => "ready");
await app.RunAsync();
