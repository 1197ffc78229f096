using System.Collections.Concurrent;

namespace CoFUsfl.Actors;

/// <summary>Key of the traffic counters: who talks to whom with which message kind.</summary>
public readonly record struct TrafficKey(string SenderRole, string RecipientRole, string PayloadType);

internal enum Ctr
{
    MessagesSent, BytesSent, MessagesDelivered, BytesDelivered, Dropped, Duplicated, Delayed, Reordered,
    Throttled, PartitionDropped, CorruptInjected, CorruptDetected, Rejected, DeadLettered,
}

/// <summary>
/// Counters of one <see cref="TrafficKey"/>. Bytes are envelope sizes (exactly what <see cref="Protocol.Envelope.CalculateSize"/>
/// gives for the envelope that carries or would carry the message). Sent counts every send attempt, before faults.
/// Striped by processor so that actors on different cores counting the same key do not fight over one cache line.
/// </summary>
public sealed class TrafficStats
{
    private const int Width = 16;   // 14 counters, padded to two cache lines per stripe
    private readonly long[] _data;
    private readonly int _mask;

    internal TrafficStats()
    {
        var stripes = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Min(Environment.ProcessorCount, 64));
        _mask = stripes - 1;
        _data = new long[stripes * Width];
    }

    internal void Add(Ctr c, long value = 1) =>
        Interlocked.Add(ref _data[(Thread.GetCurrentProcessorId() & _mask) * Width + (int)c], value);

    private long Sum(Ctr c)
    {
        long s = 0;
        for (var i = (int)c; i < _data.Length; i += Width) s += Volatile.Read(ref _data[i]);
        return s;
    }

    /// <summary>Current values, summed over stripes.</summary>
    public TrafficSnapshot Snapshot(TrafficKey key) => new(key,
        Sum(Ctr.MessagesSent), Sum(Ctr.BytesSent), Sum(Ctr.MessagesDelivered), Sum(Ctr.BytesDelivered),
        Sum(Ctr.Dropped), Sum(Ctr.Duplicated), Sum(Ctr.Delayed), Sum(Ctr.Reordered), Sum(Ctr.Throttled),
        Sum(Ctr.PartitionDropped), Sum(Ctr.CorruptInjected), Sum(Ctr.CorruptDetected), Sum(Ctr.Rejected), Sum(Ctr.DeadLettered));
}

/// <summary>Immutable copy of one key's counters.</summary>
public sealed record TrafficSnapshot(
    TrafficKey Key, long MessagesSent, long BytesSent, long MessagesDelivered, long BytesDelivered,
    long Dropped, long Duplicated, long Delayed, long Reordered, long Throttled, long PartitionDropped,
    long CorruptInjected, long CorruptDetected, long Rejected, long DeadLettered)
{
    internal static TrafficSnapshot Sum(TrafficKey key, IEnumerable<TrafficSnapshot> all)
    {
        long[] s = new long[14];
        foreach (var x in all)
        {
            s[0] += x.MessagesSent; s[1] += x.BytesSent; s[2] += x.MessagesDelivered; s[3] += x.BytesDelivered;
            s[4] += x.Dropped; s[5] += x.Duplicated; s[6] += x.Delayed; s[7] += x.Reordered; s[8] += x.Throttled;
            s[9] += x.PartitionDropped; s[10] += x.CorruptInjected; s[11] += x.CorruptDetected; s[12] += x.Rejected; s[13] += x.DeadLettered;
        }
        return new(key, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13]);
    }
}

/// <summary>
/// Traffic, fault and lifecycle counters of a system. Wire traffic (Protobuf messages) is keyed by
/// (sender role, recipient role, payload type); local-only plain objects are not traffic and are not counted here.
/// Faults are also counted by kind, and rejected envelopes by reason.
/// </summary>
public sealed class TrafficCounters
{
    private readonly ConcurrentDictionary<TrafficKey, TrafficStats> _stats = new();
    private readonly ConcurrentDictionary<string, long> _faults = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _rejections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _lifecycle = new(StringComparer.Ordinal);

    internal TrafficStats For(string senderRole, string recipientRole, string payloadType) =>
        _stats.GetOrAdd(new TrafficKey(senderRole, recipientRole, payloadType), static _ => new TrafficStats());

    /// <summary>All keys, sorted (sender role, recipient role, payload type).</summary>
    public IReadOnlyList<TrafficSnapshot> Snapshot() =>
        [.. _stats.Select(kv => kv.Value.Snapshot(kv.Key))
            .OrderBy(s => s.Key.SenderRole, StringComparer.Ordinal)
            .ThenBy(s => s.Key.RecipientRole, StringComparer.Ordinal)
            .ThenBy(s => s.Key.PayloadType, StringComparer.Ordinal)];

    /// <summary>Counters of one key (zeros if it never occurred).</summary>
    public TrafficSnapshot Get(string senderRole, string recipientRole, string payloadType)
    {
        var key = new TrafficKey(senderRole, recipientRole, payloadType);
        return _stats.TryGetValue(key, out var s) ? s.Snapshot(key) : TrafficSnapshot.Sum(key, []);
    }

    /// <summary>Sum over all keys.</summary>
    public TrafficSnapshot Total => TrafficSnapshot.Sum(new TrafficKey("*", "*", "*"), Snapshot());

    /// <summary>Injected faults by kind: drop, duplicate, corrupt, delay, reorder, throttle, partition, crash-stop, crash-restart.</summary>
    public IReadOnlyDictionary<string, long> Faults => new SortedDictionary<string, long>(_faults, StringComparer.Ordinal);
    /// <summary>Rejected inbound envelopes by reason (checksum mismatch, malformed envelope, unknown payload type, ...).</summary>
    public IReadOnlyDictionary<string, long> Rejections => new SortedDictionary<string, long>(_rejections, StringComparer.Ordinal);
    /// <summary>Lifecycle events by kind: failure, restart, stop.</summary>
    public IReadOnlyDictionary<string, long> Lifecycle => new SortedDictionary<string, long>(_lifecycle, StringComparer.Ordinal);

    /// <summary>Injected faults of one kind.</summary>
    public long FaultCount(string kind) => _faults.TryGetValue(kind, out var n) ? n : 0;
    /// <summary>Rejected envelopes for one reason.</summary>
    public long RejectionCount(string reason) => _rejections.TryGetValue(reason, out var n) ? n : 0;
    /// <summary>Lifecycle events of one kind.</summary>
    public long LifecycleCount(string kind) => _lifecycle.TryGetValue(kind, out var n) ? n : 0;

    internal void CountFault(string kind) => _faults.AddOrUpdate(kind, 1, static (_, n) => n + 1);
    internal void CountRejection(string reason) => _rejections.AddOrUpdate(reason, 1, static (_, n) => n + 1);
    internal void CountLifecycle(string kind) => _lifecycle.AddOrUpdate(kind, 1, static (_, n) => n + 1);
}
