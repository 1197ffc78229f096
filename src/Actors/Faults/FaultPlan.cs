namespace CoFUsfl.Actors;

/// <summary>Shape of a random delay.</summary>
public enum DelayDistribution
{
    /// <summary>Always <see cref="DelaySpec.Mean"/>.</summary>
    Constant,
    /// <summary>Uniform in [<see cref="DelaySpec.Min"/>, <see cref="DelaySpec.Max"/>].</summary>
    Uniform,
    /// <summary>Exponential with mean <see cref="DelaySpec.Mean"/>.</summary>
    Exponential,
    /// <summary>Normal(<see cref="DelaySpec.Mean"/>, <see cref="DelaySpec.StdDev"/>), clamped at zero.</summary>
    Normal,
}

/// <summary>A delay distribution, e.g. <c>delay { distribution = exponential, mean = 20ms }</c>.</summary>
public sealed record DelaySpec
{
    /// <summary>Shape of the distribution.</summary>
    public DelayDistribution Distribution { get; init; } = DelayDistribution.Constant;
    /// <summary>Mean (constant, exponential, normal).</summary>
    public TimeSpan Mean { get; init; }
    /// <summary>Lower bound (uniform).</summary>
    public TimeSpan Min { get; init; }
    /// <summary>Upper bound (uniform).</summary>
    public TimeSpan Max { get; init; }
    /// <summary>Standard deviation (normal).</summary>
    public TimeSpan StdDev { get; init; }
    /// <summary>Probability that a message is delayed at all (1 = every message).</summary>
    public double Probability { get; init; } = 1.0;
}

/// <summary>
/// Faults on the messages from actors matching <see cref="From"/> to actors matching <see cref="To"/>
/// (<see cref="ActorPattern"/>: name, role, path or address globs). The first matching rule applies.
/// Probabilities are per message and independent.
/// </summary>
public sealed record FaultRule
{
    /// <summary>Pattern of senders.</summary>
    public string From { get; init; } = "*";
    /// <summary>Pattern of recipients.</summary>
    public string To { get; init; } = "*";
    /// <summary>Probability that a message is lost.</summary>
    public double Drop { get; init; }
    /// <summary>Probability that a message is delivered twice.</summary>
    public double Duplicate { get; init; }
    /// <summary>Probability that a message is held back by <see cref="ReorderDelay"/> without holding the link, so later messages overtake it.</summary>
    public double Reorder { get; init; }
    /// <summary>How long a reordered message is held back.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(10);
    /// <summary>Probability that the serialized payload gets <see cref="CorruptBits"/> bits flipped; the receiver detects it by checksum.</summary>
    public double Corrupt { get; init; }
    /// <summary>Bits flipped per corruption, 1 to 3 (CRC-32C detects every such error).</summary>
    public int CorruptBits { get; init; } = 1;
    /// <summary>Extra delay per message; null = none.</summary>
    public DelaySpec? Delay { get; init; }
    /// <summary>Bytes per second allowed on each matching link (sender, recipient); null = no throttle.</summary>
    public double? ThrottleBytesPerSecond { get; init; }
    /// <summary>
    /// Message types the rule's faults apply to (protobuf full name, or the name after its last dot); empty = every
    /// message. Other messages on the link travel unharmed (the rule's random stream still advances for them).
    /// </summary>
    public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>Whether the rule's faults apply to a message of this type.</summary>
    public bool AppliesTo(string type)
    {
        if (Messages.Count == 0) return true;
        var dot = type.LastIndexOf('.');
        var shortName = dot < 0 ? type : type[(dot + 1)..];
        foreach (var m in Messages)
            if (string.Equals(m, type, StringComparison.Ordinal) || string.Equals(m, shortName, StringComparison.Ordinal)) return true;
        return false;
    }
}

/// <summary>Blackholes all traffic between actors matching any of <see cref="SideA"/> and actors matching any of <see cref="SideB"/>, both directions, during [<see cref="Start"/>, <see cref="Start"/> + <see cref="Duration"/>).</summary>
public sealed record PartitionRule
{
    /// <summary>Patterns of one side.</summary>
    public required IReadOnlyList<string> SideA { get; init; }
    /// <summary>Patterns of the other side.</summary>
    public required IReadOnlyList<string> SideB { get; init; }
    /// <summary>Time on the system's clock (since start).</summary>
    public TimeSpan Start { get; init; }
    /// <summary>null = until the end of the run.</summary>
    public TimeSpan? Duration { get; init; }
}

/// <summary>How an injected crash ends.</summary>
public enum CrashMode
{
    /// <summary>The actor is stopped (watchers get <see cref="Terminated"/>).</summary>
    Stop,
    /// <summary>The actor fails with <see cref="InjectedCrashException"/>; its supervisor decides (usually a restart).</summary>
    Restart,
}

/// <summary>Crashes actors matching <see cref="Actor"/>: once at <see cref="At"/>, and/or before each message with <see cref="Probability"/>.</summary>
public sealed record CrashRule
{
    /// <summary>Pattern of the actors to crash.</summary>
    public required string Actor { get; init; }
    /// <summary>Crash once at this time on the system clock; null = not timed.</summary>
    public TimeSpan? At { get; init; }
    /// <summary>Probability of a crash before each message delivered to a matching actor.</summary>
    public double Probability { get; init; }
    /// <summary>Stop, or fail through the supervisor.</summary>
    public CrashMode Mode { get; init; } = CrashMode.Restart;
}

/// <summary>
/// A replayable fault plan: every decision is drawn from a random stream derived from <see cref="Seed"/> and the
/// link (sender, recipient), so the k-th message on a link meets the same fate in every run.
/// </summary>
public sealed record FaultPlan
{
    /// <summary>Seed of every fault stream.</summary>
    public long Seed { get; init; }
    /// <summary>Link faults; the first matching rule applies to a link.</summary>
    public IReadOnlyList<FaultRule> Rules { get; init; } = [];
    /// <summary>Network partitions.</summary>
    public IReadOnlyList<PartitionRule> Partitions { get; init; } = [];
    /// <summary>Actor crashes.</summary>
    public IReadOnlyList<CrashRule> Crashes { get; init; } = [];

    internal bool IsEmpty => Rules.Count == 0 && Partitions.Count == 0 && Crashes.Count == 0;
}

/// <summary>The failure an injected <see cref="CrashMode.Restart"/> crash raises inside the actor.</summary>
public sealed class InjectedCrashException(string actor) : Exception($"injected crash of {actor}");
