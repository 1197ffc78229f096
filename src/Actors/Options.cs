namespace CoFUsfl.Actors;

/// <summary>Which clock drives timers, the scheduler and message delivery.</summary>
public enum ClockMode
{
    /// <summary>Wall-clock time; actors run concurrently on the thread pool.</summary>
    RealTime,
    /// <summary>Discrete-event simulation on one thread: the clock jumps to the next event; runs are reproducible.</summary>
    Virtual,
}

/// <summary>How simultaneous virtual-time events are ordered.</summary>
public enum TieBreak
{
    /// <summary>In the order they were scheduled.</summary>
    Fifo,
    /// <summary>By a seeded hash of the (sender, recipient) pair, then scheduling order: different seeds explore different interleavings, and one pair's messages stay in order.</summary>
    SeededShuffle,
}

/// <summary>
/// What a bounded mailbox does when it is full. Real time only: in virtual time a message reaches the mailbox at its
/// arrival event, after the sender has moved on, so every strategy drops the overflow (dead letter "mailbox full").
/// </summary>
public enum OverflowStrategy
{
    /// <summary>The new message becomes a dead letter (reason "mailbox full"); <see cref="ActorRef.TryTell"/> returns false.</summary>
    DropNew,
    /// <summary>The sending thread waits up to <see cref="MailboxOptions.PushTimeout"/> for room, then drops.</summary>
    Block,
    /// <summary><see cref="ActorRef.Tell"/> throws <see cref="MailboxFullException"/> to the sender (inside an actor, its supervisor decides).</summary>
    Fail,
}

/// <summary>Mailbox of an actor. <c>Capacity = 0</c> means unbounded.</summary>
public sealed record MailboxOptions
{
    /// <summary>Maximum queued messages; 0 = unbounded.</summary>
    public int Capacity { get; init; }
    /// <summary>What a full mailbox does with a new message.</summary>
    public OverflowStrategy Overflow { get; init; } = OverflowStrategy.DropNew;
    /// <summary>How long <see cref="OverflowStrategy.Block"/> waits for room.</summary>
    public TimeSpan PushTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The default: unbounded.</summary>
    public static MailboxOptions Unbounded { get; } = new();

    /// <summary>A bounded mailbox.</summary>
    public static MailboxOptions Bounded(int capacity, OverflowStrategy overflow = OverflowStrategy.DropNew) =>
        new() { Capacity = capacity, Overflow = overflow };
}

/// <summary>
/// Link characteristics of one actor (its access link): bandwidths in bytes per second
/// (<see cref="double.PositiveInfinity"/> = unlimited) and one-way latency.
/// </summary>
public sealed record LinkProfile
{
    /// <summary>Sending bandwidth, bytes per second.</summary>
    public double UplinkBytesPerSecond { get; init; } = double.PositiveInfinity;
    /// <summary>Receiving bandwidth, bytes per second.</summary>
    public double DownlinkBytesPerSecond { get; init; } = double.PositiveInfinity;
    /// <summary>One-way latency added to every message over this link.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>No delay at all (the default for actors no rule names).</summary>
    public static LinkProfile Unlimited { get; } = new();
}

/// <summary>Gives every actor matching <see cref="Actor"/> (an <see cref="ActorPattern"/>) a link profile.</summary>
public sealed record ActorLinkRule(string Actor, LinkProfile Profile);

/// <summary>A dedicated path between two sets of actors: overrides the actors' own profiles for that pair (both directions unless <see cref="Bidirectional"/> is false).</summary>
public sealed record PairLinkRule
{
    /// <summary>Pattern of the sending side.</summary>
    public required string From { get; init; }
    /// <summary>Pattern of the receiving side.</summary>
    public required string To { get; init; }
    /// <summary>Bandwidth of the pair link, bytes per second.</summary>
    public double BytesPerSecond { get; init; } = double.PositiveInfinity;
    /// <summary>One-way latency added to every message over this link.</summary>
    public TimeSpan Latency { get; init; }
    /// <summary>Also applies from <see cref="To"/> to <see cref="From"/>.</summary>
    public bool Bidirectional { get; init; } = true;
}

/// <summary>
/// The simulated network. Transfer rule for a message of <c>size</c> bytes (its envelope size) from A to B:
/// a pair rule, when one matches, gives bandwidth and latency; otherwise bandwidth = min(A.uplink, B.downlink)
/// and latency = A.latency + B.latency. Arrival = start + size / bandwidth + latency. In virtual time with
/// <see cref="ModelContention"/>, each side is occupied for its own share: A's uplink for size / A.uplink (from when it
/// is free), B's downlink for size / B.downlink (from when it is free, and the message is in no earlier than A has sent
/// it). So simultaneous uploads to one server queue up on the server's downlink only as far as that downlink is the
/// bottleneck: slow clients uploading to a fast server proceed in parallel. A pair link is one shared queue. Messages of one pair never overtake each other (unless a reorder fault says so).
/// Messages an actor sends to itself take no time, and neither do plain (non-Protobuf) objects: they are node-local control messages.
/// </summary>
public sealed record NetworkOptions
{
    /// <summary>Access links per actor; the first matching rule applies.</summary>
    public IReadOnlyList<ActorLinkRule> Actors { get; init; } = [];
    /// <summary>Dedicated pair links; the first matching rule applies.</summary>
    public IReadOnlyList<PairLinkRule> Pairs { get; init; } = [];
    /// <summary>Virtual time: transfers queue on busy uplinks/downlinks.</summary>
    public bool ModelContention { get; init; } = true;

    internal bool IsEmpty => Actors.Count == 0 && Pairs.Count == 0;
}

/// <summary>Configuration of an <see cref="ActorSystem"/>. Every member has a HOCON-friendly shape (see the report's proposal).</summary>
public sealed record ActorSystemOptions
{
    /// <summary>First segment of every local address.</summary>
    public string NodeName { get; init; } = "local";
    /// <summary>Incarnation of this node; 0 picks one from the clock at start.</summary>
    public ulong Incarnation { get; init; }
    /// <summary>Real or virtual time.</summary>
    public ClockMode Clock { get; init; } = ClockMode.RealTime;
    /// <summary>Seed of the virtual-time tie-break (the fault plan has its own seed).</summary>
    public long Seed { get; init; }
    /// <summary>Order of simultaneous virtual-time events.</summary>
    public TieBreak TieBreak { get; init; } = TieBreak.Fifo;
    /// <summary>Messages an actor processes per turn before yielding its thread (real time).</summary>
    public int Throughput { get; init; } = 64;
    /// <summary>Mailbox of actors whose Props name none.</summary>
    public MailboxOptions DefaultMailbox { get; init; } = MailboxOptions.Unbounded;
    /// <summary>Serialize every Protobuf message through the envelope even in-process: proves remotability, costs time.</summary>
    public bool SerializeMessages { get; init; }
    /// <summary>Count messages and envelope bytes per (sender role, recipient role, payload type).</summary>
    public bool CountTraffic { get; init; } = true;
    /// <summary>Event log destination (JSON lines). The system does not dispose a writer it was given.</summary>
    public TextWriter? EventLog { get; init; }
    /// <summary>Event log file; created (overwritten) at start and closed at shutdown. Ignored when <see cref="EventLog"/> is set.</summary>
    public string? EventLogPath { get; init; }
    /// <summary>Log a "send" event for every message (in addition to deliver/drop/fault/lifecycle).</summary>
    public bool LogSends { get; init; } = true;
    /// <summary>Faults to inject; null = none.</summary>
    public FaultPlan? Faults { get; init; }
    /// <summary>Simulated links; null = instantaneous delivery.</summary>
    public NetworkOptions? Network { get; init; }
    /// <summary>How the user guardian supervises top-level actors, from configuration (used when <see cref="GuardianStrategy"/> is null).</summary>
    public SupervisionOptions Supervision { get; init; } = new();
    /// <summary>How the user guardian supervises top-level actors, from code (a decider per exception type); overrides <see cref="Supervision"/>.</summary>
    public SupervisorStrategy? GuardianStrategy { get; init; }
    /// <summary>How many recent dead letters <see cref="ActorSystem.RecentDeadLetters"/> keeps.</summary>
    public int DeadLetterHistory { get; init; } = 256;
    /// <summary>Timeout of an Ask that names none.</summary>
    public TimeSpan DefaultAskTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Carries envelopes to actors on other nodes; null = this node only.</summary>
    public IRemoteTransport? Transport { get; init; }
}
