using System.Collections.Concurrent;

namespace CoFUsfl.Actors;

/// <summary>
/// A node of actors: creates them, routes their messages (through the link and fault layer when configured),
/// keeps counters and the event log, and — in virtual time — runs the discrete-event loop.
/// Split by concern: this file holds creation, lookup and shutdown; <c>ActorSystem.Routing.cs</c> the message path;
/// <c>ActorSystem.VirtualTime.cs</c> the run loop; <c>ActorSystem.Diagnostics.cs</c> dead letters and the log.
/// </summary>
public sealed partial class ActorSystem : IDisposable
{
    private readonly ConcurrentDictionary<string, ActorCell> _cells = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ActorRef> _temp = new(StringComparer.Ordinal);
    private readonly ActorCell _guardian;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nameCounter, _askCounter;
    private int _disposed;

    private ActorSystem(ActorSystemOptions options)
    {
        Options = options;
        if (!ActorAddress.IsValidName(options.NodeName)) throw new ArgumentException($"invalid node name '{options.NodeName}'", nameof(options));
        if (options.Throughput < 1) throw new ArgumentOutOfRangeException(nameof(options), "throughput must be at least 1");
        Node = new NodeId(options.NodeName, options.Incarnation != 0 ? options.Incarnation : (ulong)DateTime.UtcNow.Ticks);
        Engine = options.Clock == ClockMode.Virtual ? new VirtualTimeEngine() : new RealTimeEngine();
        IsVirtual = Engine.IsVirtual;
        if (options.EventLog is not null) _log = new JsonLinesEventLog(options.EventLog, owns: false);
        else if (options.EventLogPath is not null) _log = new JsonLinesEventLog(new StreamWriter(options.EventLogPath, append: false), owns: true);
        var faults = options.Faults is { IsEmpty: false } ? options.Faults : null;
        var network = options.Network is { IsEmpty: false } ? options.Network : null;
        if (faults is not null || network is not null) Links = new LinkLayer(this, faults, network);
        _plain = !IsVirtual && !options.CountTraffic && _log is null && Links is null && !options.SerializeMessages;
        DeadLetters = new DeadLetterActorRef($"{Node.Name}/deadLetters", this);
        _guardian = new ActorCell(this, Props.Create(static () => new GuardianActor()) with { SupervisorStrategy = options.GuardianStrategy ?? options.Supervision.ToStrategy() },
            null, $"{Node.Name}/user");
        Register(_guardian);
        _guardian.Start();
        Links?.ScheduleTimedCrashes();
        options.Transport?.Start(Node, new Inbound(this));
    }

    /// <summary>Creates and starts a system.</summary>
    public static ActorSystem Create(ActorSystemOptions? options = null) => new(options ?? new ActorSystemOptions());

    /// <summary>The options the system was created with.</summary>
    public ActorSystemOptions Options { get; }
    /// <summary>This node's name and incarnation.</summary>
    public NodeId Node { get; }
    /// <summary>True when the system runs on the virtual clock.</summary>
    public bool IsVirtual { get; }
    internal Engine Engine { get; }
    internal LinkLayer? Links { get; }
    /// <summary>Payload types for decoding envelopes.</summary>
    public MessageRegistry Registry { get; init; } = MessageRegistry.Default;
    /// <summary>Messages, bytes, faults and lifecycle events counted so far.</summary>
    public TrafficCounters Traffic { get; } = new();
    /// <summary>Telling this records a dead letter.</summary>
    public ActorRef DeadLetters { get; }
    /// <summary>Completes when every actor has stopped after <see cref="Terminate"/>.</summary>
    public Task WhenTerminated => _terminated.Task;

    /// <summary>Time since start on the system clock (virtual or real).</summary>
    public TimeSpan Now => TimeSpan.FromTicks(Engine.NowTicks);

    /// <summary>Creates a top-level actor, <c>node/user/name</c>. Names are unique among siblings; null generates one.</summary>
    public ActorRef ActorOf(Props props, string? name = null) => _guardian.SpawnChild(props, name);

    /// <summary>Stops a local actor (after the message it is handling), its children first.</summary>
    public void Stop(ActorRef actor)
    {
        if (actor is not LocalActorRef l) throw new NotSupportedException($"only local actors can be stopped ({actor.Address} is remote)");
        l.Cell.SendSystem(new SystemMessage.Terminate("stopped"));
    }

    /// <summary>
    /// The reference for an address: a live local actor, a pending Ask, a remote actor (any other node), or —
    /// for a local path with no actor — a reference whose messages become dead letters.
    /// </summary>
    public ActorRef Resolve(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!string.Equals(ActorAddress.NodeOf(address), Node.Name, StringComparison.Ordinal)) return new RemoteActorRef(address, this);
        if (_cells.TryGetValue(address, out var cell)) return cell.Self;
        if (_temp.TryGetValue(address, out var temp)) return temp;
        if (address == DeadLetters.Address) return DeadLetters;
        return new DeadLetterActorRef(address, this);
    }

    /// <summary>Number of live local actors (guardian included).</summary>
    public int ActorCount => _cells.Count;

    internal IEnumerable<ActorCell> LocalCells() => _cells.Values;

    internal void Register(ActorCell cell) => _cells[cell.Self.Address] = cell;

    internal void Unregister(ActorCell cell) =>
        _cells.TryRemove(new KeyValuePair<string, ActorCell>(cell.Self.Address, cell));

    internal void UnregisterTemp(string address) => _temp.TryRemove(address, out _);

    internal void OnCellTerminated(ActorCell cell)
    {
        if (cell == _guardian) _terminated.TrySetResult();
    }

    internal string NextGeneratedName()
    {
        var n = (ulong)Interlocked.Increment(ref _nameCounter);
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> buf = stackalloc char[16];
        var i = buf.Length;
        do { buf[--i] = digits[(int)(n % 36)]; n /= 36; } while (n > 0);
        return "$" + new string(buf[i..]);
    }

    /// <summary>Orders simultaneous virtual events of an actor: 0 (scheduling order) unless the tie-break is seeded.</summary>
    internal long RankOf(string address) =>
        Options.TieBreak == TieBreak.SeededShuffle ? (long)(ActorAddress.StableHash(address, (ulong)Options.Seed) >> 1) : 0;

    internal long RankOf(string from, string to) =>
        Options.TieBreak == TieBreak.SeededShuffle ? (long)(ActorAddress.StableHash(to, ActorAddress.StableHash(from, (ulong)Options.Seed)) >> 1) : 0;

    /// <summary>Sends <paramref name="message"/> and completes with the reply; see <see cref="AskExtensions.Ask{T}"/>.</summary>
    public Task<T> Ask<T>(ActorRef target, object message, TimeSpan? timeout = null)
    {
        var t = timeout ?? Options.DefaultAskTimeout;
        var tcs = new TaskCompletionSource<T>(IsVirtual ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        var owner = ActorCell.Current;
        var id = Interlocked.Increment(ref _askCounter);
        var promise = new PromiseActorRef<T>($"{Node.Name}/temp/{owner?.Role ?? "external"}/{id}", this, owner, tcs);
        _temp[promise.Address] = promise;
        promise.ArmTimeout((owner?.NowTicks ?? Engine.NowTicks) + t.Ticks, t, target.Address);
        try
        {
            Send(target, message, promise, (ulong)id, throwOnFull: true);
        }
        catch (Exception e)
        {
            promise.DeliverLocal(new StatusFailure(e), null, false);
        }
        return tcs.Task;
    }

    /// <summary>Schedules messages and actions on the system clock.</summary>
    public ActorScheduler Scheduler => _scheduler ??= new ActorScheduler(this);
    private ActorScheduler? _scheduler;

    /// <summary>Stops every actor (children before parents). Completes <see cref="WhenTerminated"/>; in virtual time, run the loop to let it happen.</summary>
    public void Terminate() => _guardian.SendSystem(new SystemMessage.Terminate("system terminating"));

    /// <summary>Terminates the actors (in virtual time by running the loop until they are stopped), then releases timers, the transport and the log.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Terminate();
        if (Engine is VirtualTimeEngine v)
        {
            try
            {
                v.Enter();
                try { while (!_terminated.Task.IsCompleted && v.Step(long.MaxValue)) { } }
                finally { v.Exit(); }
            }
            catch (InvalidOperationException) { /* disposed from inside the loop: nothing more can run */ }
        }
        else _terminated.Task.Wait(TimeSpan.FromSeconds(5));
        Options.Transport?.Dispose();
        Engine.Dispose();
        _log?.Dispose();
    }

    private sealed class GuardianActor : Actor
    {
        protected internal override void OnReceive(object message) => Unhandled(message);
    }

    private sealed class Inbound(ActorSystem system) : IEnvelopeReceiver
    {
        public void Receive(ReadOnlySpan<byte> envelope) => system.ReceiveEnvelope(envelope, null);
    }
}

/// <summary>Delayed and periodic messages and actions on the system clock (virtual or real).</summary>
public sealed class ActorScheduler
{
    private readonly ActorSystem _system;
    internal ActorScheduler(ActorSystem system) => _system = system;

    private long Base => ActorCell.Current?.NowTicks ?? _system.Engine.NowTicks;

    /// <summary>Tells <paramref name="message"/> to <paramref name="receiver"/> after <paramref name="delay"/> (through the normal message path).</summary>
    public ICancelable ScheduleTellOnce(TimeSpan delay, ActorRef receiver, object message, ActorRef? sender = null) =>
        _system.Engine.ScheduleAt(Base + Math.Max(0, delay.Ticks), receiver.Endpoint?.Rank ?? 0, () => receiver.Tell(message, sender));

    /// <summary>Tells <paramref name="message"/> every <paramref name="interval"/>, first after <paramref name="initialDelay"/>, until cancelled.</summary>
    public ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ActorRef receiver, object message, ActorRef? sender = null)
    {
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval));
        var handle = new RepeatHandle();
        var due = Base + Math.Max(0, initialDelay.Ticks);
        void Fire()
        {
            if (handle.IsCancelled) return;
            receiver.Tell(message, sender);
            due += interval.Ticks;
            handle.Current = _system.Engine.ScheduleAt(due, receiver.Endpoint?.Rank ?? 0, Fire);
        }
        handle.Current = _system.Engine.ScheduleAt(due, receiver.Endpoint?.Rank ?? 0, Fire);
        return handle;
    }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delay"/> (on the timer thread in real time, on the loop in virtual time).</summary>
    public ICancelable ScheduleOnce(TimeSpan delay, Action action) =>
        _system.Engine.ScheduleAt(Base + Math.Max(0, delay.Ticks), 0, action);

    private sealed class RepeatHandle : ICancelable
    {
        private volatile bool _cancelled;
        public ScheduledItem? Current;
        public void Cancel() { _cancelled = true; Current?.Cancel(); }
        public bool IsCancelled => _cancelled;
    }
}
