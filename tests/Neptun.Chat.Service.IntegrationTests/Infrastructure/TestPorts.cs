using System.Net;
using System.Net.Sockets;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// Free loopback ports for services a test starts. NEPTUN_TEST_PORTS=FIRST-LAST keeps them inside
/// a range (on a machine shared with other test runs); without it the system picks them.
/// </summary>
public static class TestPorts
{
    private static int _next = -1;

    public static int Next()
    {
        var range = Environment.GetEnvironmentVariable("NEPTUN_TEST_PORTS");
        if (string.IsNullOrEmpty(range))
        {
            return TryBind(0) ?? throw new InvalidOperationException("No free loopback port.");
        }

        var bounds = range.Split('-');
        int first = int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture);
        int last = int.Parse(bounds[1], System.Globalization.CultureInfo.InvariantCulture);
        var count = last - first + 1;
        Interlocked.CompareExchange(ref _next, Random.Shared.Next(count), -1);
        for (var i = 0; i < count; i++)
        {
            var port = first + (Interlocked.Increment(ref _next) % count);
            if (TryBind(port) is { } free)
            {
                return free;
            }
        }

        throw new InvalidOperationException($"No free loopback port in {range}.");
    }

    private static int? TryBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
