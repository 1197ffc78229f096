using CoFUsfl.Actors.Remote.RabbitMq.Protocol;
using Google.Protobuf;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CoFUsfl.Actors.Remote.RabbitMq;

/// <summary>
/// <see cref="IRemoteTransport"/> over a RabbitMQ broker. Topology, all non-durable (a run lives as long as its nodes):
/// <list type="bullet">
/// <item>direct exchange <see cref="DataExchange"/>; each node's inbox queue <c>cofusfl.inbox.NAME</c> is bound with its name
/// and is exclusive, so it vanishes with the node's connection — a publish to a dead node comes back (mandatory, basic.return);</item>
/// <item>fanout exchange <see cref="MembershipExchange"/> carrying heartbeats, feeding <see cref="Membership"/>.</item>
/// </list>
/// Sending never blocks for long: envelopes go to one bounded outbound queue (in bytes, confirmed publishes included;
/// a full queue makes <see cref="Send"/> wait up to <see cref="RabbitMqOptions.SendTimeout"/>) drained by one publisher
/// in order, so envelopes to a node keep their order. Envelopes above the chunk size travel as chunks. Every failure
/// (too large, unroutable after the grace, refused, queue full) is raised on <see cref="Failed"/>, logged, and recorded
/// as a dead letter of the bound system — never dropped silently. After losing the broker the transport reconnects and
/// re-publishes what was not confirmed; receivers drop the duplicates this can make.
/// </summary>
public sealed class RabbitMqTransport : IRemoteTransport
{
    /// <summary>Direct exchange carrying envelopes, routed by node name.</summary>
    public const string DataExchange = "cofusfl.nodes";
    /// <summary>Fanout exchange carrying heartbeats.</summary>
    public const string MembershipExchange = "cofusfl.membership";

    /// <summary>Name of the inbox queue of <paramref name="node"/>.</summary>
    public static string InboxOf(string node) => "cofusfl.inbox." + node;

    private readonly RabbitMqOptions _o;
    private readonly ConnectionFactory _factory;
    private readonly Action<string> _log;
    private readonly object _lock = new();
    private readonly LinkedList<Outgoing> _queue = new();
    private readonly LinkedList<(ulong Tag, Outgoing Item)> _unconfirmed = new();
    private readonly Dictionary<string, List<Outgoing>> _parked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _work = new(0);
    private readonly CancellationTokenSource _stop = new();
    private long _budget;
    private ulong _nextSeq;

    private IConnection? _conn;
    private IChannel? _pub, _consume, _control, _probe;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reconnecting;
    private volatile bool _stopped;
    private NodeId _self;
    private string _selfId = "";
    private BasicProperties? _props;
    private IEnvelopeReceiver? _receiver;
    private Reassembler? _reassembler;
    private ActorSystem? _deadLetters;
    private Task? _publisher, _ticker;
    private ulong _heartbeatSeq, _nextTag;
    private int _unacked;
    private readonly object _heartbeatGate = new();
    private DateTime _connectedAt = DateTime.UtcNow;
    private long _sent, _received, _bytesSent, _reconnects, _failures;

    private sealed class Outgoing
    {
        public required string Node;
        public required byte[] Body;          // rented from the pool; the body is its first Length bytes
        public required int Length;
        public required ReadOnlyMemory<byte> Envelope;
        public required long Charge;          // bytes of the budget released when this item is done
        public required DateTime FirstTry;     // reset after a reconnect
        public bool Returned;
        public bool Last = true;              // last chunk (or a whole envelope): completing it completes the envelope
        public ChunkedEnvelope? Transfer;     // set on chunks: the envelope they belong to

        public int Size => Transfer?.Size ?? Envelope.Length;
        /// <summary>A copy of the whole envelope, for failure reports and dead letters (the bodies go back to the pool).</summary>
        public byte[] Copy(int chunkSize) => Transfer?.Join(chunkSize) ?? Envelope.ToArray();
    }

    private sealed class ChunkedEnvelope(int size)
    {
        public readonly int Size = size;
        public readonly List<byte[]> Bodies = [];   // rented; returned when every chunk is done
        public int Done;
        public bool Failed;
        public byte[] Join(int chunkSize)
        {
            var all = new byte[Size];
            for (var i = 0; i < Bodies.Count; i++)
            {
                var at = i * chunkSize;
                Bodies[i].AsSpan(Wire.ChunkHeader, Math.Min(chunkSize, Size - at)).CopyTo(all.AsSpan(at));
            }
            return all;
        }
    }

    private RabbitMqTransport(RabbitMqOptions options)
    {
        options.Validate();
        _o = options;
        _log = options.Log ?? (s => Console.Error.WriteLine(s));
        var uri = new UriBuilder(options.Uri) { UserName = "", Password = "", Path = "" }.Uri;
        _factory = new ConnectionFactory
        {
            Uri = uri,
            UserName = options.EffectiveUser,
            Password = options.EffectivePassword,
            VirtualHost = options.EffectiveVirtualHost,
            AutomaticRecoveryEnabled = false,   // recovery is ours: we must re-publish unconfirmed envelopes in order
            TopologyRecoveryEnabled = false,
            RequestedHeartbeat = options.BrokerHeartbeat,
            RequestedConnectionTimeout = options.ConnectTimeout,
            MaxInboundMessageBodySize = (uint)Math.Min(int.MaxValue, options.ChunkSize + Wire.ChunkHeader + 4096L),
            ClientProvidedName = "cofusfl",
        };
        if (options.Uri.Scheme == "amqp") _factory.SocketFactory = family => new ReadAheadTcpClient(family);
    }

    /// <summary>
    /// Opens a connection to the broker, so bad credentials or an unknown virtual host fail here with
    /// <see cref="BrokerAuthenticationException"/> (naming user, virtual host and broker, never the password) and an
    /// unreachable broker with <see cref="BrokerConnectionException"/>. Pass the result as <see cref="ActorSystemOptions.Transport"/>.
    /// </summary>
    public static async Task<RabbitMqTransport> ConnectAsync(RabbitMqOptions options, CancellationToken cancel = default)
    {
        var t = new RabbitMqTransport(options);
        t._conn = await t.OpenConnectionAsync(cancel).ConfigureAwait(false);
        return t;
    }

    /// <summary>Blocking form of <see cref="ConnectAsync"/>.</summary>
    public static RabbitMqTransport Connect(RabbitMqOptions options) => ConnectAsync(options).GetAwaiter().GetResult();

    /// <summary>The membership view of this node; null before <see cref="Start"/>.</summary>
    public ClusterMembership? Membership { get; private set; }

    /// <summary>Every failure: refused, unroutable or lost envelopes and bad inbound transfers. Raised on transport threads; keep handlers short.</summary>
    public event Action<TransportFailure>? Failed;

    /// <summary>Raised when the connection to the broker was lost (false) and restored (true).</summary>
    public event Action<bool>? ConnectionChanged;

    /// <summary>Options in effect.</summary>
    public RabbitMqOptions Options => _o;
    /// <summary>Envelopes confirmed by the broker.</summary>
    public long EnvelopesSent => Interlocked.Read(ref _sent);
    /// <summary>Envelopes handed to the local system.</summary>
    public long EnvelopesReceived => Interlocked.Read(ref _received);
    /// <summary>Envelope bytes confirmed by the broker.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    /// <summary>Times the connection was re-established.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);
    /// <summary>Failures raised so far.</summary>
    public long Failures => Interlocked.Read(ref _failures);
    /// <summary>Inbound duplicates dropped (re-publishes after a broker failure).</summary>
    public long DuplicatesDropped => _reassembler?.Duplicates ?? 0;
    /// <summary>Bytes queued or awaiting confirmation.</summary>
    public long QueuedBytes { get { lock (_lock) return _budget; } }
    /// <summary>Most bytes ever queued or awaiting confirmation at once (at most the outbound bound, or one envelope when the queue was empty).</summary>
    public long PeakQueuedBytes { get { lock (_lock) return _peakBudget; } }
    private long _peakBudget;
    /// <summary>True while connected to the broker.</summary>
    public bool IsConnected => _ready.Task.IsCompletedSuccessfully && _conn?.IsOpen == true;

    /// <summary>Records this transport's failures as dead letters of <paramref name="system"/> (with their precise reason).</summary>
    public void RecordDeadLettersIn(ActorSystem system) => _deadLetters = system;

    // ---------------------------------------------------------------- connection

    private async Task<IConnection> OpenConnectionAsync(CancellationToken cancel)
    {
        try
        {
            var conn = await _factory.CreateConnectionAsync(cancel).ConfigureAwait(false);
            // The broker refuses an unknown or forbidden virtual host right after the handshake, which the client only
            // notices on the next operation: open one channel so such a refusal surfaces here, with a clear error.
            try { await (await conn.CreateChannelAsync(cancellationToken: cancel).ConfigureAwait(false)).CloseAsync(cancel).ConfigureAwait(false); }
            catch { conn.Dispose(); throw; }
            return conn;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var text = _o.Mask(Describe(e));
            var where = $"user '{_o.EffectiveUser}' on virtual host '{_o.EffectiveVirtualHost}' at {_o.SafeUri}";
            if (IsAuthFailure(e))
                throw new BrokerAuthenticationException($"broker refused {where}: wrong user or password, or no access to the virtual host (is it another run's?). Broker said: {text}");
            throw new BrokerConnectionException($"cannot connect to the broker as {where}: {text}");
        }
    }

    private static bool IsAuthFailure(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is AuthenticationFailureException or PossibleAuthenticationFailureException) return true;
            if (x is OperationInterruptedException { ShutdownReason.ReplyCode: 403 or 530 }) return true;
            if (x is AlreadyClosedException { ShutdownReason.ReplyCode: 403 or 530 }) return true;
            if (x.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal) || x.Message.Contains("NOT_ALLOWED", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException) parts.Add(x.Message);
        return string.Join(" -> ", parts.Distinct());
    }

    /// <summary>Channels, topology and consumers on a fresh connection. Throws on a taken node name.</summary>
    private async Task OpenChannelsAsync(IConnection conn, CancellationToken cancel)
    {
        var pub = await conn.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false), cancel).ConfigureAwait(false);
        pub.BasicAcksAsync += (_, e) => { OnConfirm(pub, e.DeliveryTag, e.Multiple, nack: false); return Task.CompletedTask; };
        pub.BasicNacksAsync += (_, e) => { OnConfirm(pub, e.DeliveryTag, e.Multiple, nack: true); return Task.CompletedTask; };
        pub.BasicReturnAsync += (_, e) => { OnReturn(e); return Task.CompletedTask; };
        await pub.ExchangeDeclareAsync(DataExchange, ExchangeType.Direct, durable: false, autoDelete: false, cancellationToken: cancel).ConfigureAwait(false);
        await pub.ExchangeDeclareAsync(MembershipExchange, ExchangeType.Fanout, durable: false, autoDelete: false, cancellationToken: cancel).ConfigureAwait(false);

        var consume = await conn.CreateChannelAsync(cancellationToken: cancel).ConfigureAwait(false);
        await consume.BasicQosAsync(0, _o.Prefetch, false, cancel).ConfigureAwait(false);
        try
        {
            await consume.QueueDeclareAsync(InboxOf(_self.Name), durable: false, exclusive: true, autoDelete: true, cancellationToken: cancel).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 405)
        {
            throw new BrokerConnectionException($"node name '{_self.Name}' is taken: another live node on virtual host '{_o.EffectiveVirtualHost}' at {_o.SafeUri} owns inbox {InboxOf(_self.Name)}");
        }
        await consume.QueueBindAsync(InboxOf(_self.Name), DataExchange, _self.Name, cancellationToken: cancel).ConfigureAwait(false);
        var consumer = new AsyncEventingBasicConsumer(consume);
        consumer.ReceivedAsync += (_, e) => OnDelivery(consume, e);
        await consume.BasicConsumeAsync(InboxOf(_self.Name), autoAck: false, consumer, cancel).ConfigureAwait(false);

        var control = await conn.CreateChannelAsync(cancellationToken: cancel).ConfigureAwait(false);
        var hbQueue = await control.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: cancel).ConfigureAwait(false);
        await control.QueueBindAsync(hbQueue.QueueName, MembershipExchange, "", cancellationToken: cancel).ConfigureAwait(false);
        var hbConsumer = new AsyncEventingBasicConsumer(control);
        hbConsumer.ReceivedAsync += (_, e) => { OnHeartbeat(e.Body.Span); return Task.CompletedTask; };
        await control.BasicConsumeAsync(hbQueue.QueueName, autoAck: true, hbConsumer, cancel).ConfigureAwait(false);

        lock (_lock)
        {
            _nextTag = 0;
            _unacked = 0;
            _pub = pub;
        }
        _consume = consume;
        _control = control;
        _probe = null;
    }

    private void OnConnectionLost(IConnection conn, ShutdownEventArgs e)
    {
        // Our own shutdown sets _stopped first; any other closing (the broker, the network, or our abort of a connection
        // whose publishing channel died) is a loss to recover from.
        if (_stopped || conn != _conn) return;
        if (Interlocked.Exchange(ref _reconnecting, 1) != 0) return;
        lock (_lock) if (_ready.Task.IsCompleted) _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Report($"connection to {_o.SafeUri} lost ({_o.Mask(e.ReplyText)}); reconnecting for up to {_o.ReconnectFor.TotalSeconds:F0} s");
        ConnectionChanged?.Invoke(false);
        _ = Task.Run(ReconnectAsync);
    }

    private async Task ReconnectAsync()
    {
        var deadline = DateTime.UtcNow + _o.ReconnectFor;
        var delay = TimeSpan.FromMilliseconds(200);
        string last = "";
        while (!_stopped && DateTime.UtcNow < deadline)
        {
            try
            {
                var conn = await OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
                var lost = _conn;
                _conn = conn;
                lost?.Dispose();
                try { await OpenChannelsAsync(conn, _stop.Token).ConfigureAwait(false); }
                catch { await SafeCloseAsync(conn).ConfigureAwait(false); throw; }
                conn.ConnectionShutdownAsync += (_, e) => { OnConnectionLost(conn, e); return Task.CompletedTask; };
                lock (_lock)
                {
                    // Unconfirmed envelopes may or may not have reached their queue: publish them again, in order,
                    // ahead of everything queued after them. Receivers drop the ones they already have.
                    for (var n = _unconfirmed.Last; n is not null; n = n.Previous) _queue.AddFirst(n.Value.Item);
                    _unconfirmed.Clear();
                    // The outage was ours: give every destination the full grace again to re-declare its inbox.
                    // Peers lived through the same outage and come back on their own retry schedule (a connect attempt of
                    // up to ConnectTimeout, then up to MaxBackoff of waiting): until they can have re-declared their inboxes,
                    // an unroutable envelope is not evidence that its node died.
                    var now = DateTime.UtcNow;
                    foreach (var it in _queue) it.FirstTry = now;
                    foreach (var list in _parked.Values) foreach (var it in list) it.FirstTry = now;
                    _rejoinUntil = now + _o.UnreachableAfter + _o.ConnectTimeout + MaxBackoff;
                    Interlocked.Exchange(ref _reconnecting, 0);
                    _ready.TrySetResult();
                }
                Interlocked.Increment(ref _reconnects);
                _connectedAt = DateTime.UtcNow;
                Membership!.Refresh();
                _work.Release();
                Report($"reconnected to {_o.SafeUri}");
                PublishHeartbeat(NodeHeartbeat.Types.Kind.Join);
                ConnectionChanged?.Invoke(true);
                return;
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e)
            {
                last = _o.Mask(e.Message);
                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, delay.TotalMilliseconds * 2));
            }
        }
        if (_stopped) return;
        Report($"gave up reconnecting to {_o.SafeUri} after {_o.ReconnectFor.TotalSeconds:F0} s: {last}");
        StopAndFailAll($"the broker at {_o.SafeUri} was unreachable for {_o.ReconnectFor.TotalSeconds:F0} s");
    }

    private static async Task SafeCloseAsync(IConnection conn)
    {
        try { await conn.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false); }
        catch (Exception) { /* already closed: nothing to release */ }
        conn.Dispose();
    }

    // ---------------------------------------------------------------- IRemoteTransport

    /// <summary>Declares this node's inbox, starts consuming, joins the membership and starts heartbeats.</summary>
    public void Start(NodeId localNode, IEnvelopeReceiver receiver)
    {
        if (_receiver is not null) throw new InvalidOperationException("the transport is already started");
        if (!ActorAddress.IsValidName(localNode.Name)) throw new ArgumentException($"invalid node name '{localNode.Name}'");
        _self = localNode;
        _selfId = localNode.ToString();
        _props = new BasicProperties { AppId = _selfId, DeliveryMode = DeliveryModes.Transient };
        _receiver = receiver;
        _reassembler = new Reassembler(_o.MaxMessageSize);
        Membership = new ClusterMembership(localNode, _o.UnreachableAfter);
        Membership.Changed += OnMemberChanged;
        var conn = _conn ?? throw new InvalidOperationException("not connected: create the transport with RabbitMqTransport.ConnectAsync");
        try { OpenChannelsAsync(conn, _stop.Token).GetAwaiter().GetResult(); }
        catch
        {
            // The system that called Start will not exist to dispose us: release the connection now.
            _stopped = true;
            SafeCloseAsync(conn).GetAwaiter().GetResult();
            _conn = null;
            throw;
        }
        conn.ConnectionShutdownAsync += (_, e) => { OnConnectionLost(conn, e); return Task.CompletedTask; };
        _ready.TrySetResult();
        _publisher = Task.Run(PublishLoopAsync);
        _ticker = Task.Run(TickLoopAsync);
        PublishHeartbeat(NodeHeartbeat.Types.Kind.Join);
    }

    /// <summary>
    /// Queues <paramref name="envelope"/> for <paramref name="node"/> (copied: the caller may reuse its buffer). Waits while the
    /// outbound queue is full (back-pressure), up to the send timeout. False when the node has left, the transport is stopped,
    /// or the envelope was refused; refusals are also raised on <see cref="Failed"/>.
    /// </summary>
    public bool Send(string node, ReadOnlyMemory<byte> envelope)
    {
        if (_stopped || _receiver is null) return false;
        if (envelope.Length > _o.MaxMessageSize)
        {
            Fail(TransportFailureKind.TooLarge, node, envelope,
                $"envelope of {envelope.Length} bytes for node {node} exceeds the maximum message size of {_o.MaxMessageSize} bytes (cofusfl.cluster.max-message-size); refused");
            return _deadLetters is not null;   // recorded as a dead letter with this reason already
        }
        if (Membership!.Find(node) is { Status: MemberStatus.Left }) return false;

        var now = DateTime.UtcNow;
        var span = envelope.Span;
        var items = new List<Outgoing>();
        if (span.Length <= _o.ChunkSize)
        {
            var body = Wire.Whole(0, span, Rent);
            items.Add(new Outgoing
            {
                Node = node, Body = body, Length = Wire.WholeHeader + span.Length, Envelope = body.AsMemory(Wire.WholeHeader, span.Length),
                Charge = span.Length, FirstTry = now,
            });
        }
        else
        {
            // Chunk bodies are the only copy; failure reports re-join them (rare), so no second full copy is kept.
            var count = (span.Length + _o.ChunkSize - 1) / _o.ChunkSize;
            var transfer = new ChunkedEnvelope(span.Length);
            for (var i = 0; i < count; i++)
            {
                var offset = i * _o.ChunkSize;
                var len = Math.Min(_o.ChunkSize, span.Length - offset);
                var body = Wire.Chunk(0, 0, i, count, span.Length, span.Slice(offset, len), Rent);
                transfer.Bodies.Add(body);
                items.Add(new Outgoing
                {
                    Node = node, Body = body, Length = Wire.ChunkHeader + len, Envelope = ReadOnlyMemory<byte>.Empty, Transfer = transfer,
                    Charge = len, FirstTry = now, Last = i == count - 1,
                });
            }
        }
        var size = span.Length;

        lock (_lock)
        {
            // Back-pressure: wait for room, but always admit into an empty queue so one huge envelope cannot wedge it.
            var deadline = now + _o.SendTimeout;
            while (_budget > 0 && _budget + size > _o.OutboundQueueBytes && !_stopped)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    Monitor.Exit(_lock);
                    try
                    {
                        Fail(TransportFailureKind.QueueFull, node, envelope,
                            $"outbound queue full ({_o.OutboundQueueBytes} bytes, cofusfl.cluster.outbound-queue) for {_o.SendTimeout.TotalSeconds:F0} s; envelope of {size} bytes for node {node} refused");
                    }
                    finally { Monitor.Enter(_lock); }
                    return _deadLetters is not null;
                }
                Monitor.Wait(_lock, left);
            }
            if (_stopped) return false;
            var transfer = _nextSeq + 1;
            foreach (var it in items)
            {
                var seq = ++_nextSeq;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(it.Body.AsSpan(2), seq);
                if (items.Count > 1) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(it.Body.AsSpan(10), transfer);
                _queue.AddLast(it);
            }
            _budget += size;
            if (_budget > _peakBudget) _peakBudget = _budget;
        }
        _work.Release();
        return true;
    }

    // ---------------------------------------------------------------- publishing

    private async Task PublishLoopAsync()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await _work.WaitAsync(token).ConfigureAwait(false);
                while (true)
                {
                    Task ready;
                    lock (_lock) ready = _ready.Task;
                    if (!ready.IsCompleted) await ready.WaitAsync(token).ConfigureAwait(false);
                    var ch = _pub!;
                    Outgoing? item;
                    ulong tag;
                    try
                    {
                        lock (_lock)
                        {
                            if (_queue.First is null) break;
                            if (!ReferenceEquals(ch, _pub) || !_ready.Task.IsCompleted) continue;
                            item = _queue.First.Value;
                            _queue.RemoveFirst();
                            // Only this loop publishes on the channel, so its delivery tags are 1, 2, 3, … in publish order.
                            tag = ++_nextTag;
                            _unconfirmed.AddLast((tag, item));
                        }
                        await ch.BasicPublishAsync(DataExchange, item.Node, mandatory: true, _props!, item.Body.AsMemory(0, item.Length), token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested) { return; }
                    catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or IOException or ObjectDisposedException)
                    {
                        // The connection is going down; the reconnect puts every unconfirmed envelope back in the queue.
                        await WaitForReconnectSignalAsync(ch, token).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) { /* stopping */ }
        catch (Exception e)
        {
            Report($"publisher stopped: {_o.Mask(e.ToString())}");
            StopAndFailAll($"publisher failed: {_o.Mask(e.Message)}");
        }
    }

    private async Task WaitForReconnectSignalAsync(IChannel failed, CancellationToken token)
    {
        // The shutdown event may lag the failed publish: wait until the channel is seen closed and a new one replaces it.
        while (!token.IsCancellationRequested && ReferenceEquals(_pub, failed) && !_stopped)
        {
            if (!failed.IsOpen && _conn is { IsOpen: true } c && Interlocked.CompareExchange(ref _reconnecting, 0, 0) == 0)
            {
                // Only the channel died (e.g. a protocol error): treat it as a lost connection.
                try { await c.AbortAsync().ConfigureAwait(false); } catch (Exception) { /* closing anyway */ }
            }
            await Task.Delay(50, token).ConfigureAwait(false);
        }
    }

    private void OnConfirm(IChannel ch, ulong tag, bool multiple, bool nack)
    {
        var done = new List<Outgoing>();
        lock (_lock)
        {
            if (!ReferenceEquals(ch, _pub)) return;   // confirms of a dead channel: its envelopes are re-published
            for (var n = _unconfirmed.First; n is not null;)
            {
                var next = n.Next;
                if (n.Value.Tag > tag) break;
                if (multiple || n.Value.Tag == tag)
                {
                    done.Add(n.Value.Item);
                    _unconfirmed.Remove(n);
                    if (!multiple) break;
                }
                n = next;
            }
        }
        foreach (var item in done)
        {
            if (nack)
                Finish(item, TransportFailureKind.Nacked, $"the broker refused (nacked) an envelope of {item.Size} bytes for node {item.Node}");
            else if (item.Returned) OnUnroutable(item);
            else Finish(item, null, null);
        }
    }

    private void OnReturn(BasicReturnEventArgs e)
    {
        var seq = Wire.SequenceOf(e.Body.Span);
        lock (_lock)
        {
            foreach (var (_, item) in _unconfirmed)
                if (Wire.SequenceOf(item.Body) == seq) { item.Returned = true; break; }
        }
    }

    /// <summary>
    /// A publish came back unroutable: the node's inbox does not exist. Right after a broker restart, or before a node's first
    /// heartbeat, that is normal for a moment, so the envelope is parked and retried until the node is known gone or the
    /// deadline passes; then it fails.
    /// </summary>
    private void OnUnroutable(Outgoing item)
    {
        item.Returned = false;
        var m = Membership!.Find(item.Node);
        var gone = GaveUpOn(item, m);
        if (gone)
        {
            Finish(item, TransportFailureKind.Unroutable, m is { Status: MemberStatus.Left }
                ? $"node {item.Node} left the cluster; its inbox is gone"
                : $"node {item.Node} has no inbox on the broker (not a member, or it died) after {_o.UnreachableAfter.TotalSeconds:F0} s of retries");
            if (m is { Status: not MemberStatus.Left }) _suspect[item.Node] = m.Node;
            return;
        }
        lock (_lock)
        {
            if (!_parked.TryGetValue(item.Node, out var list)) _parked[item.Node] = list = [];
            list.Add(item);
        }
    }

    /// <summary>
    /// An unroutable envelope is given up when its node left, or when its inbox stayed missing for
    /// <see cref="RabbitMqOptions.UnreachableAfter"/> since the first try — and, after a reconnect of ours, not before the
    /// peers have had their own chance to reconnect (<see cref="_rejoinUntil"/>).
    /// </summary>
    private bool GaveUpOn(Outgoing item, Member? m)
    {
        if (m is { Status: MemberStatus.Left }) return true;
        var now = DateTime.UtcNow;
        return now - item.FirstTry > _o.UnreachableAfter && now > _rejoinUntil;
    }

    /// <summary>Longest wait between two reconnect attempts.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);
    private DateTime _rejoinUntil = DateTime.MinValue;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, NodeId> _suspect = new(StringComparer.Ordinal);

    private void RetryParked()
    {
        List<Outgoing> fail = [];
        lock (_lock)
        {
            if (_parked.Count == 0) return;
            foreach (var (node, list) in _parked)
            {
                var m = Membership!.Find(node);
                foreach (var it in list.OrderByDescending(i => Wire.SequenceOf(i.Body)))
                {
                    if (GaveUpOn(it, m)) fail.Add(it);
                    else _queue.AddFirst(it);
                }
            }
            _parked.Clear();
        }
        foreach (var it in fail)
            Finish(it, TransportFailureKind.Unroutable, $"node {it.Node} has no inbox on the broker (it left or never joined); gave up after {_o.UnreachableAfter.TotalSeconds:F0} s");
        _work.Release();
    }

    /// <summary>
    /// One item is done: success counts when it is a whole envelope's last part; a failure is reported once per envelope.
    /// Bodies go back to the pool unless <paramref name="keepBodies"/> (at shutdown a publish may still be reading one).
    /// </summary>
    private void Finish(Outgoing item, TransportFailureKind? failure, string? why, bool keepBodies = false)
    {
        lock (_lock)
        {
            _budget -= item.Charge;
            Monitor.PulseAll(_lock);
        }
        var t = item.Transfer;
        if (failure is { } k && t is not { Failed: true })
        {
            if (t is not null) t.Failed = true;   // reported once, with the first failed chunk
            Fail(k, item.Node, item.Copy(_o.ChunkSize), why!);
        }
        else if (failure is null && item.Last && t is not { Failed: true })
        {
            Interlocked.Increment(ref _sent);
            Interlocked.Add(ref _bytesSent, item.Size);
        }
        if (keepBodies) return;
        if (t is null) System.Buffers.ArrayPool<byte>.Shared.Return(item.Body);
        else
        {
            bool all;
            lock (t) all = ++t.Done == t.Bodies.Count;
            if (all) foreach (var b in t.Bodies) System.Buffers.ArrayPool<byte>.Shared.Return(b);
        }
    }

    private static byte[] Rent(int n) => System.Buffers.ArrayPool<byte>.Shared.Rent(n);

    // ---------------------------------------------------------------- receiving

    private async Task OnDelivery(IChannel ch, BasicDeliverEventArgs e)
    {
        var sender = e.BasicProperties.AppId ?? "";
        _reassembler!.Accept(sender, e.Body.Span, Deliver,
            why => Fail(TransportFailureKind.BadInbound, ActorAddress.NodeOf(sender.Split('#')[0]), ReadOnlyMemory<byte>.Empty, why));
        // Acknowledge in batches (multiple): a quarter of the prefetch window keeps the broker streaming at a fraction of the frames.
        // Deliveries left unacknowledged at the end only hold window space; they die with the exclusive queue.
        if (++_unacked < Math.Max(1, _o.Prefetch / 4)) return;
        _unacked = 0;
        try { await ch.BasicAckAsync(e.DeliveryTag, multiple: true).ConfigureAwait(false); }
        catch (Exception x) when (x is AlreadyClosedException or OperationInterruptedException or IOException) { /* the delivery dies with the connection */ }
    }

    private void Deliver(ReadOnlySpan<byte> envelope)
    {
        Interlocked.Increment(ref _received);
        _receiver!.Receive(envelope);
    }

    // ---------------------------------------------------------------- membership

    private void PublishHeartbeat(NodeHeartbeat.Types.Kind kind)
    {
        var ch = _control;
        if (ch is null || !ch.IsOpen) return;
        var hb = new NodeHeartbeat
        {
            Name = _self.Name, Incarnation = _self.Incarnation, Kind = kind, Role = _o.Role,
            CpuSlots = (uint)_o.Capacity.CpuSlots, Gpus = (uint)_o.Capacity.Gpus, Sequence = Interlocked.Increment(ref _heartbeatSeq),
        };
        // One heartbeat at a time on the control channel (the ticker and join answers both publish).
        lock (_heartbeatGate)
        {
            try { ch.BasicPublishAsync(MembershipExchange, "", hb.ToByteArray()).AsTask().Wait(TimeSpan.FromSeconds(5)); }
            catch (Exception) { /* lost with the connection; the next heartbeat after reconnecting announces us again */ }
        }
    }

    private void OnHeartbeat(ReadOnlySpan<byte> body)
    {
        NodeHeartbeat hb;
        try { hb = NodeHeartbeat.Parser.ParseFrom(body); }
        catch (InvalidProtocolBufferException e)
        {
            Report($"malformed heartbeat of {body.Length} bytes ignored: {e.Message}");
            return;
        }
        if (!ActorAddress.IsValidName(hb.Name)) { Report($"heartbeat with invalid node name '{hb.Name}' ignored"); return; }
        Membership!.OnHeartbeat(new NodeId(hb.Name, hb.Incarnation), hb.Role, new NodeCapacity((int)hb.CpuSlots, (int)hb.Gpus),
            hb.Kind == NodeHeartbeat.Types.Kind.Leave);
        // A newcomer should learn the cluster at once, not after a heartbeat interval: answer its join.
        if (hb.Kind == NodeHeartbeat.Types.Kind.Join && hb.Name != _self.Name) _ = Task.Run(() => PublishHeartbeat(NodeHeartbeat.Types.Kind.Alive));
    }

    private void OnMemberChanged(MemberEvent e)
    {
        if (e.Kind == MemberEventKind.Left) _reassembler?.Departed(e.Member.Node.ToString());
        if (e.Kind is MemberEventKind.Left or MemberEventKind.Joined) _work.Release();
    }

    private async Task TickLoopAsync()
    {
        var token = _stop.Token;
        var step = TimeSpan.FromMilliseconds(Math.Min(250, _o.HeartbeatInterval.TotalMilliseconds));
        var nextBeat = DateTime.UtcNow + _o.HeartbeatInterval;
        using var timer = new PeriodicTimer(step);
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                if (!_ready.Task.IsCompleted) continue;
                RetryParked();
                if (DateTime.UtcNow < nextBeat && _suspect.IsEmpty) continue;
                if (DateTime.UtcNow >= nextBeat)
                {
                    nextBeat = DateTime.UtcNow + _o.HeartbeatInterval;
                    PublishHeartbeat(NodeHeartbeat.Types.Kind.Alive);
                }
                var suspects = Membership!.CheckDeadlines(2 * _o.HeartbeatInterval).Select(m => m.Node).ToList();
                foreach (var s in _suspect.Values) if (!suspects.Contains(s)) suspects.Add(s);
                _suspect.Clear();
                // Right after (re)connecting, peers may not have re-declared their inboxes yet: do not judge them.
                if (DateTime.UtcNow - _connectedAt < _o.UnreachableAfter || DateTime.UtcNow < _rejoinUntil) continue;
                foreach (var node in suspects)
                    if (!await InboxExistsAsync(node.Name, token).ConfigureAwait(false))
                        Membership.OnGone(node, "its inbox vanished: the broker closed its connection (process died or was cut off)");
            }
        }
        catch (OperationCanceledException) { /* stopping */ }
        catch (Exception e) { Report($"membership ticker stopped: {_o.Mask(e.ToString())}"); }
    }

    /// <summary>Asks the broker whether <paramref name="node"/>'s inbox exists (it is exclusive: it exists exactly while the node is connected).</summary>
    private async Task<bool> InboxExistsAsync(string node, CancellationToken token)
    {
        try
        {
            var conn = _conn;
            if (conn is null || !conn.IsOpen) return true;
            if (_probe is not { IsOpen: true }) _probe = await conn.CreateChannelAsync(cancellationToken: token).ConfigureAwait(false);
            await _probe.QueueDeclarePassiveAsync(InboxOf(node), token).ConfigureAwait(false);
            return true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            _probe = null;
            return false;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 405)
        {
            _probe = null;
            return true;   // exclusive to another live connection: exists
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            _probe = null;
            return true;   // cannot tell now: assume it exists
        }
    }

    // ---------------------------------------------------------------- failures and shutdown

    private void Fail(TransportFailureKind kind, string node, ReadOnlyMemory<byte> envelope, string why)
    {
        Interlocked.Increment(ref _failures);
        Report(why);
        // The dead letter first: whoever reacts to the event finds it recorded.
        if (_deadLetters is { } system && envelope.Length > 0)
        {
            CoFUsfl.Actors.Protocol.Envelope? env = null;
            try { env = CoFUsfl.Actors.Protocol.Envelope.Parser.ParseFrom(envelope.Span); }
            catch (InvalidProtocolBufferException) { /* not an envelope: record the bytes */ }
            system.RecordDeadLetter(new DeadLetter(env is null ? envelope.ToArray() : env, env?.Sender, env?.Recipient ?? node + "/?", why));
        }
        try { Failed?.Invoke(new TransportFailure(kind, node, why, envelope)); }
        catch (Exception e) { Report($"a Failed handler threw: {e.Message}"); }
    }

    private void Report(string text) => _log($"[cofusfl.cluster {(_selfId.Length > 0 ? _selfId : "transport")}] {_o.Mask(text)}");

    private void StopAndFailAll(string why)
    {
        List<Outgoing> all;
        lock (_lock)
        {
            _stopped = true;
            all = [.. _queue, .. _unconfirmed.Select(u => u.Item), .. _parked.Values.SelectMany(l => l)];
            _queue.Clear();
            _unconfirmed.Clear();
            _parked.Clear();
            Monitor.PulseAll(_lock);
        }
        foreach (var it in all) Finish(it, TransportFailureKind.Stopped, $"envelope of {it.Size} bytes for node {it.Node} not delivered: {why}", keepBodies: true);
    }

    /// <summary>
    /// Clean shutdown: announces the leave, waits up to the drain timeout for queued envelopes to be confirmed, fails what
    /// remains (reported, never silent), then closes the connection (the inbox goes with it).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_receiver is not null && !_stopped)
        {
            var deadline = DateTime.UtcNow + _o.DrainTimeout;
            lock (_lock)
                while ((_queue.Count > 0 || _unconfirmed.Count > 0 || _parked.Count > 0) && DateTime.UtcNow < deadline && !_stopped)
                    Monitor.Wait(_lock, TimeSpan.FromMilliseconds(50));
            PublishHeartbeat(NodeHeartbeat.Types.Kind.Leave);
        }
        StopAndFailAll("the transport was shut down before the broker confirmed it");
        _stop.Cancel();
        try { Task.WhenAll(new[] { _publisher, _ticker }.Where(t => t is not null).Cast<Task>()).Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { /* loops end by cancellation */ }
        if (_conn is { } c)
        {
            try { c.CloseAsync(TimeSpan.FromSeconds(5)).Wait(TimeSpan.FromSeconds(6)); }
            catch (Exception) { /* the broker may already be gone */ }
            c.Dispose();
        }
    }

    private int _disposed;

    /// <summary>For tests of failure detection: drops the connection without a leave, as a crashed process would.</summary>
    public void Abort()
    {
        _stopped = true;
        _stop.Cancel();
        try { _conn?.AbortAsync().Wait(TimeSpan.FromSeconds(5)); }
        catch (Exception) { /* gone already */ }
    }
}
