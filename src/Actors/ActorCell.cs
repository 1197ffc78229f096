namespace CoFUsfl.Actors;

/// <summary>
/// The runtime side of one actor: mailbox, current instance, behaviour, children, watchers and timers.
/// Split by concern: this file holds identity, posting and the processing loop; the other parts hold
/// lifecycle and supervision (<c>ActorCell.Lifecycle.cs</c>) and the context API (<c>ActorCell.Context.cs</c>).
/// </summary>
internal sealed partial class ActorCell : IThreadPoolWorkItem
{
    [ThreadStatic] private static ActorCell? t_current;
    [ThreadStatic] private static ActorCell? t_constructing;

    /// <summary>The actor running on this thread, if any: the implicit sender of <see cref="ActorRef.Tell"/>.</summary>
    internal static ActorCell? Current => t_current;
    internal static ActorCell? Constructing => t_constructing;

    private const int Idle = 0, Scheduled = 1;
    private const int New = 0, Running = 1, Terminating = 2, Dead = 3;

    private readonly ActorSystem _system;
    private readonly Props _props;
    private readonly ActorCell? _parent;
    private readonly Mailbox _mailbox;
    private readonly MailboxOptions _mailboxOptions;
    private Actor? _actor;
    private Action<object>? _behavior;
    private List<Action<object>>? _behaviorStack;
    private ActorRef? _currentSender;
    private object? _currentMessage;
    private int _scheduleState;
    private volatile bool _suspended = true;   // until Create has run
    private volatile int _lifecycle;
    private long _charged, _chargedTotal;
    private readonly TimeSpan _blockWait;

    public ActorCell(ActorSystem system, Props props, ActorCell? parent, string address)
    {
        _system = system;
        _props = props;
        _parent = parent;
        _mailboxOptions = props.Mailbox ?? system.Options.DefaultMailbox;
        _mailbox = new Mailbox(_mailboxOptions.Capacity);
        if (_mailboxOptions.Capacity > 0 && _mailboxOptions.Overflow == OverflowStrategy.Block && !system.IsVirtual) _blockWait = _mailboxOptions.PushTimeout;
        Self = new LocalActorRef(address, system, this);
        Role = props.Role ?? ActorAddress.DefaultRole(Self.Name);
        Rank = system.RankOf(address);
    }

    public LocalActorRef Self { get; }
    public string Role { get; }
    /// <summary>Orders this actor's simultaneous virtual-time events (0 unless the tie-break is seeded).</summary>
    public long Rank { get; }
    public ActorSystem System => _system;
    public ActorCell? ParentCell => _parent;
    public ActorRef? CurrentSender => _currentSender;
    public bool IsTerminated => _lifecycle == Dead;

    /// <summary>Virtual time until which the actor is busy with charged compute: its next message waits until then.</summary>
    public long BusyUntilTicks;

    /// <summary>Now on the system clock plus the time the running handler has charged.</summary>
    public long NowTicks => _system.Engine.NowTicks + (t_current == this && _system.IsVirtual ? _charged : 0);
    public long ChargedTicks => _charged;

    /// <summary>Queues the Create command: the instance is built on the actor's own turn.</summary>
    public void Start()
    {
        _mailbox.EnqueueSystem(SystemMessage.Create.Instance);
        Schedule();
    }

    /// <summary>Appends a user message. False when it became a dead letter (stopped actor, full mailbox).</summary>
    public bool Post(in Delivery d, bool applyOverflow)
    {
        if (_lifecycle == Dead)
        {
            _system.DeadLetterOf(d, Self, "recipient terminated");
            return false;
        }
        if (!_mailbox.TryEnqueue(d, applyOverflow ? _blockWait : TimeSpan.Zero))
        {
            if (applyOverflow && _mailboxOptions.Overflow == OverflowStrategy.Fail) throw new MailboxFullException(Self.Address);
            _system.DeadLetterOf(d, Self, "mailbox full");
            return false;
        }
        Schedule();
        return true;
    }

    public void SendSystem(SystemMessage m)
    {
        if (_lifecycle == Dead)
        {
            HandleSystemWhenDead(m);
            return;
        }
        _mailbox.EnqueueSystem(m);
        Schedule();
    }

    private void Schedule()
    {
        // Read before CAS: while the actor is scheduled (the common case under load) the producer does not take
        // ownership of the consumer's cache line. The fence orders our enqueue before the read; EndTurn mirrors it.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _scheduleState) == Idle && Interlocked.CompareExchange(ref _scheduleState, Scheduled, Idle) == Idle)
            _system.Engine.Dispatch(this);
    }

    private bool HasWork => _mailbox.HasSystem || ((!_suspended || _lifecycle == Dead) && _mailbox.HasUser);

    /// <summary>Real time: one turn on a pool thread — system messages first, then up to Throughput user messages.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        var previous = t_current;
        t_current = this;
        try
        {
            ProcessSystemMessages();
            var budget = _system.Options.Throughput;
            while (budget-- > 0 && !_suspended && _mailbox.TryDequeue(out var d))
            {
                InvokeUser(d);
                if (_mailbox.HasSystem) ProcessSystemMessages();
            }
            if (_lifecycle == Dead) DrainToDeadLetters();
        }
        finally
        {
            t_current = previous;
        }
        EndTurn();
    }

    /// <summary>Virtual time: one event = all pending system messages, then at most one user message.</summary>
    public void RunVirtualTurn()
    {
        var previous = t_current;
        t_current = this;
        try
        {
            ProcessSystemMessages();
            if (!_suspended && _mailbox.TryDequeue(out var d)) InvokeUser(d);
            if (_lifecycle == Dead) DrainToDeadLetters();
        }
        finally
        {
            t_current = previous;
        }
        EndTurn();
    }

    private void EndTurn()
    {
        if (!_mailbox.HasUser) _mailbox.Trim();
        Interlocked.Exchange(ref _scheduleState, Idle);
        if (HasWork) Schedule();
    }

    private void ProcessSystemMessages()
    {
        while (_mailbox.TryDequeueSystem(out var m))
        {
            if (_lifecycle == Dead) HandleSystemWhenDead(m!);
            else HandleSystem(m!);
        }
    }

    private void InvokeUser(Delivery d)
    {
        var message = d.Message;
        if (message is Traced traced)
        {
            message = traced.Message;
            _system.OnDelivered(traced, d.Sender, this);
            if (_system.Links is { } links && links.ShouldCrashOnDelivery(this, out var mode))
            {
                _system.RecordCrash(this, mode, "probability");
                if (mode == CrashMode.Stop)
                {
                    _system.DeadLetterOf(new Delivery(message, d.Sender), Self, "recipient crashed");
                    BeginTerminate("injected crash");
                    return;
                }
                HandleFailure(new InjectedCrashException(Self.Address), message);
                return;
            }
        }
        if (message is TimerScheduler.TimerMessage tm)
        {
            message = _timers?.Fired(tm)!;
            if (message is null) return;
        }
        if (message is PoisonPill)
        {
            BeginTerminate("poison pill");
            return;
        }
        _currentSender = d.Sender;
        _currentMessage = message;
        _charged = 0;
        try
        {
            if (message is Kill) throw new ActorKilledException(Self.Address);
            if (_behavior is { } b) b(message);
            else _actor!.OnReceive(message);
        }
        catch (Exception e)
        {
            HandleFailure(e, message);
        }
        finally
        {
            if (_system.IsVirtual) BusyUntilTicks = _system.Engine.NowTicks + _charged;
            _chargedTotal += _charged;
            _charged = 0;
            _currentSender = null;
            _currentMessage = null;
        }
    }

    private void DrainToDeadLetters()
    {
        while (_mailbox.TryDequeue(out var d)) _system.DeadLetterOf(d, Self, "recipient terminated");
    }

    public void Unhandled(object message)
    {
        if (message is Terminated) return;   // watching without handling Terminated is legitimate
        _system.RecordDeadLetter(new DeadLetter(message, _currentSender?.Address, Self.Address, "unhandled"));
    }

    private Actor CreateInstance()
    {
        var previous = t_constructing;
        t_constructing = this;
        try
        {
            return _props.Factory() ?? throw new InvalidOperationException($"the Props factory of {Self.Address} returned null");
        }
        finally
        {
            t_constructing = previous;
        }
    }

    public override string ToString() => Self.Address;
}
