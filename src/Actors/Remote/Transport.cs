using System.Collections.Concurrent;

namespace CoFUsfl.Actors;

/// <summary>Where a transport hands envelopes that arrived for its node. Implemented by <see cref="ActorSystem"/>.</summary>
public interface IEnvelopeReceiver
{
    /// <summary>
    /// One serialized <see cref="Protocol.Envelope"/> from another node. Safe to call from any thread; never throws for
    /// bad input (malformed, bad checksum, unknown type or recipient are counted and logged as rejections).
    /// The bytes are not kept after the call returns.
    /// </summary>
    void Receive(ReadOnlySpan<byte> envelope);
}

/// <summary>
/// Carries serialized envelopes between nodes (the RabbitMQ transport implements this). Contract:
/// <list type="bullet">
/// <item><see cref="Start"/> is called once by the system before any <see cref="Send"/>; inbound envelopes go to the receiver from any thread.</item>
/// <item><see cref="Send"/> must not block for long (queue internally) and must keep the order of envelopes sent to one node.</item>
/// <item>Delivery may be at-most-once: a lost envelope is a dropped message, nothing more.</item>
/// <item>The system disposes the transport at shutdown.</item>
/// </list>
/// Node names are the first segment of addresses (<c>node/user/...</c>); how a name maps to a queue or socket is the transport's business.
/// </summary>
public interface IRemoteTransport : IDisposable
{
    /// <summary>Begins receiving envelopes addressed to <paramref name="localNode"/>.</summary>
    void Start(NodeId localNode, IEnvelopeReceiver receiver);

    /// <summary>Sends one serialized envelope to <paramref name="node"/>. False when the node is unknown or unreachable right now (the system records a dead letter).</summary>
    bool Send(string node, ReadOnlyMemory<byte> envelope);
}

/// <summary>
/// In-process network of nodes: each <see cref="CreateTransport"/> gives one node's transport; envelopes are copied
/// (as any wire would) and handed to the destination node on the sender's thread. For tests of multi-node setups and
/// as the reference implementation of <see cref="IRemoteTransport"/>.
/// </summary>
public sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<string, IEnvelopeReceiver> _nodes = new(StringComparer.Ordinal);

    /// <summary>Envelopes carried so far.</summary>
    public long Carried => Interlocked.Read(ref _carried);
    private long _carried;

    /// <summary>A transport for one more node on this network.</summary>
    public IRemoteTransport CreateTransport() => new Transport(this);

    private sealed class Transport(InMemoryNetwork network) : IRemoteTransport
    {
        private string? _node;

        public void Start(NodeId localNode, IEnvelopeReceiver receiver)
        {
            if (!network._nodes.TryAdd(localNode.Name, receiver)) throw new InvalidOperationException($"node {localNode.Name} is already on this network");
            _node = localNode.Name;
        }

        public bool Send(string node, ReadOnlyMemory<byte> envelope)
        {
            if (!network._nodes.TryGetValue(node, out var r)) return false;
            Interlocked.Increment(ref network._carried);
            r.Receive(envelope.ToArray());
            return true;
        }

        public void Dispose()
        {
            if (_node is not null) network._nodes.TryRemove(_node, out _);
        }
    }
}
