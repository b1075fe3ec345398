using System.Net;
using System.Net.Sockets;

namespace Neptun.Chat.Service.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP proxy in front of PostgreSQL that hands the server's bytes on in small pieces with a pause
/// between them, as a slow or congested network does: a result of several kilobytes then reaches
/// the service over several reads, so a row is often split between what has arrived and what has
/// not. What the service sends goes through unchanged.
/// </summary>
public sealed class TricklingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly DnsEndPoint _server;
    private readonly int _pieceBytes;
    private readonly TimeSpan _pause;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;

    private TricklingProxy(DnsEndPoint server, int pieceBytes, TimeSpan pause)
    {
        _server = server;
        _pieceBytes = pieceBytes;
        _pause = pause;
        _listener = new TcpListener(IPAddress.Loopback, TestPorts.Next());
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TricklingProxy Start(string host, int port, int pieceBytes, TimeSpan pause) => new(new DnsEndPoint(host, port), pieceBytes, pause);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll([_accepting, .. pumps]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_pumps)
            {
                _pumps.Add(ConnectAsync(client));
            }
        }
    }

    private async Task ConnectAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_server.Host, _server.Port, _stop.Token);
                client.NoDelay = true;
                server.NoDelay = true;
                var fromClient = CopyAsync(client.GetStream(), server.GetStream(), int.MaxValue, TimeSpan.Zero);
                var fromServer = CopyAsync(server.GetStream(), client.GetStream(), _pieceBytes, _pause);
                await Task.WhenAny(fromClient, fromServer);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException)
            {
                // The service or the server hung up, or the proxy stops: both sides are closed here.
            }
        }
    }

    private async Task CopyAsync(NetworkStream from, NetworkStream to, int pieceBytes, TimeSpan pause)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                for (var sent = 0; sent < read; sent += pieceBytes)
                {
                    if (sent > 0)
                    {
                        await Task.Delay(pause, _stop.Token);
                    }

                    await to.WriteAsync(buffer.AsMemory(sent, Math.Min(pieceBytes, read - sent)), _stop.Token);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Either side closed.
        }
    }
}
