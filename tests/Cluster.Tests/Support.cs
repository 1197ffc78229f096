using System.Collections.Concurrent;
using CoFUsfl.Actors;
using CoFUsfl.Cluster.Tests.Messages;
using Google.Protobuf;

namespace CoFUsfl.Cluster.Tests;

/// <summary>Records every <see cref="Numbered"/> it receives, and answers each with the same number when asked to echo.</summary>
public sealed class Recorder(BlockingCollection<Numbered> sink, bool echo = false) : Actor
{
    protected internal override void OnReceive(object message)
    {
        if (message is not Numbered n) { Unhandled(message); return; }
        sink.Add(n);
        if (echo) Sender?.Tell(new Numbered { From = Self.Address, N = n.N });
    }
}

public static class TestMessages
{
    /// <summary>A message with <paramref name="size"/> pseudo-random bytes and their hash.</summary>
    public static Numbered WithBody(long n, int size, int seed = 7)
    {
        var data = new byte[size];
        new Random(seed + (int)n).NextBytes(data);
        return new Numbered { N = n, Data = ByteString.CopyFrom(data), DataHash = Hash(data) };
    }

    public static ulong Hash(ReadOnlySpan<byte> data) => BitConverter.ToUInt64(System.Security.Cryptography.SHA256.HashData(data));

    public static List<T> Take<T>(this BlockingCollection<T> c, int count, TimeSpan timeout)
    {
        var list = new List<T>();
        var deadline = DateTime.UtcNow + timeout;
        while (list.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !c.TryTake(out var x, left))
                throw new TimeoutException($"got {list.Count} of {count} expected messages within {timeout}");
            list.Add(x);
        }
        return list;
    }
}

/// <summary>
/// A TCP relay on loopback in front of the broker, so a test can cut one node off (and keep it off) while others stay connected.
/// While closed it drops every connection it carries and refuses new ones.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly List<System.Net.Sockets.TcpClient> _live = [];
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _open = true;

    public TcpRelay(Uri target)
    {
        _target = target;
        _listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    /// <summary>The broker URI as seen through this relay.</summary>
    public Uri Uri => new UriBuilder(_target) { Port = ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port }.Uri;

    public bool IsOpen
    {
        get => _open;
        set
        {
            _open = value;
            if (value) return;
            lock (_live) { foreach (var c in _live) c.Dispose(); _live.Clear(); }
        }
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            System.Net.Sockets.TcpClient inbound;
            try { inbound = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            if (!_open) { inbound.Dispose(); continue; }
            var outbound = new System.Net.Sockets.TcpClient();
            try { await outbound.ConnectAsync(_target.Host, _target.Port, _stop.Token); }
            catch (Exception) { inbound.Dispose(); outbound.Dispose(); continue; }
            lock (_live) { _live.Add(inbound); _live.Add(outbound); }
            _ = Pump(inbound, outbound);
            _ = Pump(outbound, inbound);
        }
    }

    private static async Task Pump(System.Net.Sockets.TcpClient from, System.Net.Sockets.TcpClient to)
    {
        try { await from.GetStream().CopyToAsync(to.GetStream()); }
        catch (Exception) { /* either side closed */ }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        IsOpen = false;
    }
}
