using System.Buffers.Binary;
using Google.Protobuf;
using Neptun.Chat.V1;
using Neptun.Session;

namespace Neptun.Chat.Benchmarks;

/// <summary>Files the load generators read: one sealed cookie per user, and a framed gRPC request.</summary>
public static class LoadSetup
{
    public const string Model = "google/gemma-2-27b-it";
    public const string ChatName = "Benchmark chat";
    private const string PasswordVariable = "NUXT_SESSION_PASSWORD";

    /// <summary>Line N holds the neptun-session value of user N, sealed as the web app seals it.</summary>
    public static int SealCookies(int userCount, string path)
    {
        var password = Environment.GetEnvironmentVariable(PasswordVariable);
        if (string.IsNullOrEmpty(password))
        {
            Console.Error.WriteLine($"{PasswordVariable} must be set");
            return 2;
        }

        var now = DateTimeOffset.UtcNow;
        using var writer = new StreamWriter(path);
        for (var userId = 1; userId <= userCount; userId++)
        {
            writer.WriteLine(IronSealer.SealSession(new SessionUser(userId, $"user{userId}@bench.test"), password, now));
        }

        return 0;
    }

    /// <summary>A gRPC message as it goes on the wire: no compression flag, 4-byte big-endian length, protobuf.</summary>
    public static int WriteGrpcBody(int userId, int projectId, string path)
    {
        var message = new CreateProjectChatRequest { UserId = userId, ProjectId = projectId, Model = Model, Name = ChatName }.ToByteArray();
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1, 4), (uint)message.Length);
        message.CopyTo(framed, 5);
        File.WriteAllBytes(path, framed);
        return 0;
    }
}
