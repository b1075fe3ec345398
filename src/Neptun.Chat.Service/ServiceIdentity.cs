namespace Neptun.Chat.Service;

/// <summary>How the service names itself to telemetry and to the database.</summary>
public static class ServiceIdentity
{
    /// <summary>The OpenTelemetry service name and the database's <c>application_name</c>.</summary>
    public const string Name = "neptun-chat-service";

    /// <summary>The meter of the service's own measurements (the create queue, the shared rate limit).</summary>
    public const string MeterName = "Neptun.Chat.Service";
}
