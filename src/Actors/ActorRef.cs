namespace CoFUsfl.Actors;

/// <summary>
/// Handle to an actor, local or remote. Its <see cref="Address"/> (<c>node/path</c>) is all a remote peer
/// needs to reach it, so references travel between nodes as strings. Equality is by address.
/// </summary>
public abstract class ActorRef : IEquatable<ActorRef>
{
    private int _addressFieldSize = -1;

    private protected ActorRef(string address, ActorSystem system)
    {
        Address = address;
        System = system;
    }

    /// <summary><c>node/path</c>, e.g. <c>local/user/client-17</c>.</summary>
    public string Address { get; }
    /// <summary>The node part of the address.</summary>
    public string Node => ActorAddress.NodeOf(Address);
    /// <summary>The last path segment.</summary>
    public string Name => ActorAddress.NameOf(Address);
    internal ActorSystem System { get; }

    /// <summary>Role of the actor, used to key traffic counters and to match fault rules.</summary>
    public abstract string Role { get; }

    /// <summary>The local actor whose link carries traffic to and from this reference (null for remote or system references).</summary>
    internal abstract ActorCell? Endpoint { get; }

    private sealed record StatsCache(string RecipientRole, string Type, TrafficStats Stats);
    private StatsCache? _statsCache;

    /// <summary>
    /// Counters of traffic from this actor: a one-entry cache keyed by reference (roles and type names are the same
    /// string instances message after message), so a steady stream skips the dictionary. Safe from any thread:
    /// the entry is immutable and replaced atomically.
    /// </summary>
    internal TrafficStats StatsTo(string recipientRole, string type, TrafficCounters counters)
    {
        var c = _statsCache;
        if (c is not null && ReferenceEquals(c.RecipientRole, recipientRole) && ReferenceEquals(c.Type, type)) return c.Stats;
        var s = counters.For(Role, recipientRole, type);
        _statsCache = new StatsCache(recipientRole, type, s);
        return s;
    }

    /// <summary>The message counter of the pair (this sender, <see cref="To"/>) in the system <see cref="Owner"/>.</summary>
    internal sealed record Sequence(ActorSystem Owner, string To, System.Runtime.CompilerServices.StrongBox<long> Counter);

    /// <summary>One-entry cache of the message counter last used with this reference as the sender (see <c>ActorSystem.NextMessageId</c>).</summary>
    internal Sequence? SequenceCache;

    /// <summary>Protobuf size of this address as an envelope string field (tag + length + UTF-8), cached.</summary>
    internal int AddressFieldSize => _addressFieldSize >= 0 ? _addressFieldSize : _addressFieldSize = ActorAddress.Utf8FieldSize(Address);

    /// <summary>
    /// Sends <paramref name="message"/> fire-and-forget. The sender defaults to the actor currently running on this
    /// thread (so a receiver can reply with <c>Sender.Tell</c>). Never throws for delivery problems: those become dead letters.
    /// </summary>
    public void Tell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        System.Send(this, message, sender ?? ActorCell.Current?.Self, 0, throwOnFull: true);
    }

    /// <summary>Like <see cref="Tell"/>, but reports a full bounded mailbox (or a stopped local recipient) as false instead of applying the overflow strategy.</summary>
    public bool TryTell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        return System.Send(this, message, sender ?? ActorCell.Current?.Self, 0, throwOnFull: false);
    }

    /// <summary>Hands a message that has passed the network layer to its destination (mailbox, promise, transport).</summary>
    internal abstract bool DeliverLocal(object message, ActorRef? sender, bool throwOnFull);

    /// <summary>Same address.</summary>
    public bool Equals(ActorRef? other) => other is not null && string.Equals(Address, other.Address, StringComparison.Ordinal);
    /// <summary>Same address.</summary>
    public override bool Equals(object? obj) => obj is ActorRef r && Equals(r);
    /// <summary>Hash of the address.</summary>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Address);
    /// <summary>The address.</summary>
    public override string ToString() => Address;
    /// <summary>Same address (or both null).</summary>
    public static bool operator ==(ActorRef? a, ActorRef? b) => a is null ? b is null : a.Equals(b);
    /// <summary>Different addresses.</summary>
    public static bool operator !=(ActorRef? a, ActorRef? b) => !(a == b);
}

/// <summary>Reference to an actor of this node: holds its cell, so a reference to a stopped actor never reaches a new actor of the same name.</summary>
internal sealed class LocalActorRef : ActorRef
{
    public LocalActorRef(string address, ActorSystem system, ActorCell cell) : base(address, system) => Cell = cell;

    public ActorCell Cell { get; }
    public override string Role => Cell.Role;
    internal override ActorCell? Endpoint => Cell;

    internal override bool DeliverLocal(object message, ActorRef? sender, bool throwOnFull) =>
        Cell.Post(new Delivery(message, sender), throwOnFull);
}

/// <summary>Reference to an actor on another node: everything sent to it is serialized and handed to the transport.</summary>
internal sealed class RemoteActorRef : ActorRef
{
    private readonly string _role;

    public RemoteActorRef(string address, ActorSystem system) : base(address, system) =>
        _role = ActorAddress.RoleOf(address);

    public override string Role => _role;
    internal override ActorCell? Endpoint => null;

    internal override bool DeliverLocal(object message, ActorRef? sender, bool throwOnFull) =>
        System.SendRemote(this, message, sender, 0);
}

/// <summary>Where undeliverable messages go; telling it records a dead letter.</summary>
internal sealed class DeadLetterActorRef(string address, ActorSystem system) : ActorRef(address, system)
{
    public override string Role => "deadLetters";
    internal override ActorCell? Endpoint => null;

    internal override bool DeliverLocal(object message, ActorRef? sender, bool throwOnFull)
    {
        if (message is DeadLetter dl) System.RecordDeadLetter(dl);
        else System.RecordDeadLetter(new DeadLetter(Traced.Unwrap(message), sender?.Address, Address, "sent to deadLetters"));
        return true;
    }
}
