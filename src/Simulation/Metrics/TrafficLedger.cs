using System.Text.Json.Nodes;
using CoFUsfl.Actors;
using CoFUsfl.Simulation.Protocol;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// Per-round deltas of the actor system's envelope counters: bytes and messages by kind, faults injected and detected.
/// Traffic of roles on other nodes is counted as it is delivered here, the rest as it is sent.
/// </summary>
public sealed class TrafficLedger(IReadOnlySet<string> remoteSenderRoles)
{
    private readonly Dictionary<string, long> previousBytes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> previousFaults = new(StringComparer.Ordinal);

    public long BytesOf(TrafficSnapshot s) => remoteSenderRoles.Contains(s.Key.SenderRole) ? s.BytesDelivered : s.BytesSent;
    public long MessagesOf(TrafficSnapshot s) => remoteSenderRoles.Contains(s.Key.SenderRole) ? s.MessagesDelivered : s.MessagesSent;

    /// <summary>Bytes and messages by kind since the previous round, from the actor system's envelope counters.</summary>
    public (JsonObject Bytes, JsonObject Messages, long Total, long Transfers) Since(ActorSystem system)
    {
        var bytes = new JsonObject();
        var messages = new JsonObject();
        long total = 0, transfers = 0;
        var current = new Dictionary<string, (long Bytes, long Messages)>(StringComparer.Ordinal);
        foreach (var s in system.Traffic.Snapshot())
        {
            var kind = Kind(s.Key);
            current.TryGetValue(kind, out var c);
            current[kind] = (c.Bytes + BytesOf(s), c.Messages + MessagesOf(s));
        }
        foreach (var (kind, (b, m)) in current.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var db = b - previousBytes.GetValueOrDefault(kind);
            var dm = m - previousBytes.GetValueOrDefault(kind + "#");
            previousBytes[kind] = b;
            previousBytes[kind + "#"] = m;
            bytes[kind] = db;
            messages[kind] = dm;
            total += db;
            if (Protocol.Transfers.IsTransfer(kind)) transfers += db;
        }
        return (bytes, messages, total, transfers);
    }

    /// <summary>Names a traffic key: the four transfers of a step, then "{message} {from}->{to}".</summary>
    public static string Kind(TrafficKey k)
    {
        var type = k.PayloadType[(k.PayloadType.LastIndexOf('.') + 1)..];
        return Protocol.Transfers.Of(type, k.SenderRole, k.RecipientRole)?.MetricName() ?? $"{type} {k.SenderRole}->{k.RecipientRole}";
    }

    /// <summary>Faults injected and envelopes rejected since the previous call.</summary>
    public JsonObject FaultsSince(ActorSystem system)
    {
        var o = new JsonObject();
        long injected = 0, detected = 0;
        foreach (var s in system.Traffic.Snapshot())
        {
            injected += s.Dropped + s.Duplicated + s.Delayed + s.Reordered + s.PartitionDropped + s.CorruptInjected;
            detected += s.Rejected; // every rejected envelope once: a corrupt one is also counted in CorruptDetected
        }
        var di = injected - previousFaults.GetValueOrDefault("injected");
        var dd = detected - previousFaults.GetValueOrDefault("detected");
        previousFaults["injected"] = injected;
        previousFaults["detected"] = detected;
        o["injected"] = di;
        o["detected"] = dd;
        return o;
    }
}
