using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CoFUsfl.Actors;

/// <summary>The message path: accounting, link and fault layer, (de)serialization, delivery.</summary>
public sealed partial class ActorSystem
{
    private readonly bool _plain;
    private static readonly ConcurrentDictionary<MessageDescriptor, int> TypeFieldSizes = new();
    private readonly ConcurrentDictionary<(string From, string To), StrongBox<long>> _sequences = new();

    private static int TypeFieldSize(MessageDescriptor d) =>
        TypeFieldSizes.GetOrAdd(d, static x => ActorAddress.Utf8FieldSize(x.FullName));

    /// <summary>
    /// Message id: the sequence number of the message from <paramref name="sender"/> to <paramref name="recipient"/>,
    /// from 1. It depends only on the traffic of that pair — not on which process sends it nor on unrelated traffic
    /// before it — so an envelope has the same bytes in one process and in a cluster (its id is a varint). Together with
    /// both addresses it identifies a message in the event log; duplicates injected by the fault layer keep it.
    /// Pairs with an Ask promise (<c>node/temp/…</c>) carry id 1 without a counter: a promise sends one question and takes
    /// one reply, and counters for every promise would grow without bound.
    /// </summary>
    private ulong NextMessageId(ActorRef? sender, ActorRef recipient)
    {
        var from = sender?.Address ?? "";
        var to = recipient.Address;
        if (ActorAddress.IsTemporary(from) || ActorAddress.IsTemporary(to)) return 1;
        StrongBox<long> box;
        var cached = sender?.SequenceCache;
        if (cached is not null && ReferenceEquals(cached.Owner, this) && ReferenceEquals(cached.To, to)) box = cached.Counter;
        else
        {
            box = _sequences.GetOrAdd((from, to), static _ => new StrongBox<long>());
            // A steady stream to one recipient skips the dictionary (the entry is immutable and replaced atomically).
            if (sender is not null) sender.SequenceCache = new ActorRef.Sequence(this, to, box);
        }
        return (ulong)Interlocked.Increment(ref box.Value);
    }

    /// <summary>Entry of every Tell. Returns false when the message became a dead letter at once.</summary>
    internal bool Send(ActorRef recipient, object message, ActorRef? sender, ulong correlationId, bool throwOnFull)
    {
        if (_plain && recipient is LocalActorRef l) return l.Cell.Post(new Delivery(message, sender), throwOnFull);
        return Route(recipient, message, sender, correlationId, throwOnFull);
    }

    private bool Route(ActorRef recipient, object message, ActorRef? sender, ulong correlationId, bool throwOnFull)
    {
        var proto = message as IMessage;
        if (proto is null && recipient is RemoteActorRef)
        {
            RecordDeadLetter(new DeadLetter(message, sender?.Address, recipient.Address, $"{message.GetType().Name} is not a Protobuf message and cannot leave the node"));
            return false;
        }
        var current = ActorCell.Current;
        var now = Engine.NowTicks;
        var depart = IsVirtual && current is not null ? now + current.ChargedTicks : now;
        var fromEndpoint = sender?.Endpoint;
        var selfSend = fromEndpoint is not null && fromEndpoint == recipient.Endpoint;
        // Only Protobuf messages travel over links: plain objects are node-local control messages.
        var useLinks = Links is not null && !selfSend && proto is not null;

        // Local plain objects in real time are not traffic: nothing to account, nothing to delay.
        if (proto is null && !IsVirtual && !Logging && !useLinks) return recipient.DeliverLocal(message, sender, throwOnFull);

        var id = NextMessageId(sender, recipient);
        string type;
        var size = 0;
        TrafficStats? stats = null;
        if (proto is not null)
        {
            var descriptor = proto.Descriptor;
            type = descriptor.FullName;
            size = EnvelopeCodec.ComputeSize(sender?.AddressFieldSize ?? 0, recipient.AddressFieldSize, id, correlationId,
                TypeFieldSize(descriptor), proto.CalculateSize());
            if (Options.CountTraffic)
            {
                stats = sender is null ? Traffic.For("external", recipient.Role, type) : sender.StatsTo(recipient.Role, type, Traffic);
                stats.Add(Ctr.MessagesSent);
                stats.Add(Ctr.BytesSent, size);
            }
        }
        else type = message.GetType().Name;
        if (Logging && Options.LogSends)
            Log(new ActorEvent(depart, "send", sender?.Address, recipient.Address, id, type, size, null, null));

        var arrival = depart;
        var duplicate = false;
        var corrupt = false;
        var corruptBits = 0;
        var corruptSeed = 0UL;
        if (useLinks)
        {
            // Links belong to actors: an Ask promise sends and receives over its asking actor's link.
            var fromLink = fromEndpoint?.Self ?? sender;
            var toLink = recipient.Endpoint?.Self ?? recipient;
            var plan = Links!.Decide(fromLink?.Address ?? "", fromLink?.Role ?? "external", toLink.Address, toLink.Role, depart, size, stats, id, type);
            if (plan.Dropped) return true;   // the sender of a lost message learns nothing, as on a real network
            arrival = plan.Arrival;
            duplicate = plan.Duplicate;
            corrupt = plan.Corrupt && proto is not null;
            corruptBits = plan.CorruptBits;
            corruptSeed = plan.CorruptSeed;
        }
        var rank = IsVirtual ? RankOf(sender?.Address ?? "", recipient.Address) : 0;
        var ok = DeliverAt(arrival, now, rank, recipient, message, proto, sender, id, correlationId, size, type, stats, corrupt, corruptBits, corruptSeed, throwOnFull);
        if (duplicate) DeliverAt(arrival, now, rank, recipient, message, proto, sender, id, correlationId, size, type, stats, false, 0, 0, false);
        return ok;
    }

    private bool DeliverAt(long arrival, long now, long rank, ActorRef recipient, object message, IMessage? proto, ActorRef? sender,
        ulong id, ulong correlationId, int size, string type, TrafficStats? stats, bool corrupt, int corruptBits, ulong corruptSeed, bool throwOnFull)
    {
        var wire = proto is not null && (recipient is RemoteActorRef || Options.SerializeMessages || corrupt);
        if (wire)
        {
            var bytes = EnvelopeCodec.Encode(sender?.Address ?? "", recipient.Address, id, correlationId, proto!,
                corrupt ? p => LinkLayer.FlipBits(p, corruptBits, corruptSeed) : null);
            Action deliver = recipient is RemoteActorRef
                ? () => TransportSend(recipient, bytes, sender, message)
                : () => ReceiveEnvelope(bytes, stats);
            if (IsVirtual || arrival > now) Engine.ScheduleAt(arrival, rank, deliver);
            else deliver();
            return true;
        }
        object payload = new Traced(message, id, size, type, stats);
        if (IsVirtual || arrival > now)
        {
            Engine.ScheduleAt(arrival, rank, () => recipient.DeliverLocal(payload, sender, false));
            return true;
        }
        return recipient.DeliverLocal(payload, sender, throwOnFull);
    }

    /// <summary>A remote reference reached without the routing layer (e.g. after a scheduled delay): serialize and send now.</summary>
    internal bool SendRemote(RemoteActorRef recipient, object message, ActorRef? sender, ulong correlationId)
    {
        var m = Traced.Unwrap(message);
        if (m is not IMessage proto)
        {
            RecordDeadLetter(new DeadLetter(m, sender?.Address, recipient.Address, $"{m.GetType().Name} is not a Protobuf message and cannot leave the node"));
            return false;
        }
        var id = message is Traced t ? t.Id : NextMessageId(sender, recipient);
        return TransportSend(recipient, EnvelopeCodec.Encode(sender?.Address ?? "", recipient.Address, id, correlationId, proto), sender, m);
    }

    private bool TransportSend(ActorRef recipient, byte[] bytes, ActorRef? sender, object message)
    {
        var transport = Options.Transport;
        if (transport is not null && transport.Send(recipient.Node, bytes)) return true;
        RecordDeadLetter(new DeadLetter(message, sender?.Address, recipient.Address,
            transport is null ? "no transport configured for remote nodes" : $"node {recipient.Node} is unreachable"));
        return false;
    }

    /// <summary>
    /// Receiving side of the wire: checks and decodes an envelope, then delivers it by its recipient address.
    /// Every refusal is counted by reason, logged, and recorded as a dead letter; nothing here throws.
    /// </summary>
    internal bool ReceiveEnvelope(ReadOnlySpan<byte> bytes, TrafficStats? stats)
    {
        var error = EnvelopeCodec.TryDecode(bytes, Registry, out var env, out var payload, out var detail);
        if (error == EnvelopeError.None && !string.Equals(ActorAddress.NodeOf(env!.Recipient), Node.Name, StringComparison.Ordinal))
            return Reject("wrong node", env, bytes.Length, stats, $"envelope for {env.Recipient} reached node {Node.Name}");
        if (error != EnvelopeError.None) return Reject(EnvelopeCodec.Reason(error), env, bytes.Length, stats, detail, error == EnvelopeError.ChecksumMismatch);

        ActorRef? target = _cells.TryGetValue(env!.Recipient, out var cell) ? cell.Self : _temp.GetValueOrDefault(env.Recipient);
        if (target is null) return Reject("unknown recipient", env, bytes.Length, stats, $"no actor at {env.Recipient}");
        var sender = env.Sender.Length == 0 ? null : Resolve(env.Sender);
        stats ??= Options.CountTraffic ? Traffic.For(sender?.Role ?? "external", target.Role, env.PayloadType) : null;
        return target.DeliverLocal(new Traced(payload!, env.MessageId, bytes.Length, env.PayloadType, stats), sender, false);
    }

    private bool Reject(string reason, Protocol.Envelope? env, int size, TrafficStats? stats, string detail, bool corrupt = false)
    {
        Traffic.CountRejection(reason);
        if (stats is null && env is not null && Options.CountTraffic)
            stats = Traffic.For(env.Sender.Length == 0 ? "external" : ActorAddress.RoleOf(env.Sender),
                ActorAddress.RoleOf(env.Recipient), env.PayloadType);
        if (stats is not null)
        {
            if (corrupt) stats.Add(Ctr.CorruptDetected);
            stats.Add(Ctr.Rejected);
        }
        Log(new ActorEvent(Engine.NowTicks, corrupt ? "corrupt-detected" : "drop", NullIfEmpty(env?.Sender), NullIfEmpty(env?.Recipient),
            env?.MessageId ?? 0, NullIfEmpty(env?.PayloadType), size, null, $"{reason}: {detail}"));
        RecordDeadLetter(new DeadLetter(env is null ? Array.Empty<byte>() : env, NullIfEmpty(env?.Sender), env?.Recipient ?? "", $"{reason}: {detail}"), log: false);
        return false;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>A traced message reached its handler (or an Ask): count and log the delivery.</summary>
    internal void OnDelivered(Traced t, ActorRef? sender, ActorCell? cell, string? address = null)
    {
        if (t.Stats is { } s)
        {
            s.Add(Ctr.MessagesDelivered);
            s.Add(Ctr.BytesDelivered, t.Size);
        }
        if (Logging)
            Log(new ActorEvent(Engine.NowTicks, "deliver", sender?.Address, cell?.Self.Address ?? address, t.Id, t.Type, t.Size, null, null));
    }
}
