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
