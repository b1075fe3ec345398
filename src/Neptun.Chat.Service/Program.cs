using Neptun.Chat.Service.Hosting;
using Neptun.Chat.Service.Session;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddNeptunDatabase();
builder.Services.AddNeptunSession();
builder.Services.AddNeptunGrpc();
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
app.UseNeptunTelemetry();
app.MapNeptunEndpoints();
app.MapNeptunOpenApi();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the test host.</summary>
public partial class Program;
