namespace CoFUsfl.Actors;

/// <summary>What a supervisor does with a failed child.</summary>
public enum Directive
{
    /// <summary>Keep the actor and its state; the failing message is dropped.</summary>
    Resume,
    /// <summary>Replace the actor by a fresh instance (mailbox kept, failing message dropped).</summary>
    Restart,
    /// <summary>Stop the actor.</summary>
    Stop,
    /// <summary>Fail the supervisor itself with the same exception.</summary>
    Escalate,
}

/// <summary>Exponential back-off between restarts: the n-th restart in the window waits min(Max, Min·Factor^(n-1)).</summary>
public sealed record RestartBackoff(TimeSpan Min, TimeSpan Max, double Factor = 2.0)
{
    internal TimeSpan DelayFor(int restartNumber)
    {
        if (restartNumber <= 0 || Min <= TimeSpan.Zero) return TimeSpan.Zero;
        var ticks = Min.Ticks * Math.Pow(Factor, restartNumber - 1);
        return ticks >= Max.Ticks ? Max : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>
/// How a parent handles its children's failures: a decider maps the exception to a <see cref="Directive"/>;
/// more than <see cref="MaxRetries"/> restarts within <see cref="Within"/> stop the child instead.
/// </summary>
public abstract class SupervisorStrategy
{
    /// <summary>Strategy with a retry budget, a decider (default: restart) and an optional back-off.</summary>
    protected SupervisorStrategy(int maxRetries, TimeSpan? within, Func<Exception, Directive>? decider, RestartBackoff? backoff)
    {
        MaxRetries = maxRetries;
        Within = within;
        Decider = decider ?? DefaultDecider;
        Backoff = backoff;
    }

    /// <summary>Restarts allowed within <see cref="Within"/>; negative = unlimited, 0 = never restart.</summary>
    public int MaxRetries { get; }
    /// <summary>Window of <see cref="MaxRetries"/>; null = the actor's lifetime.</summary>
    public TimeSpan? Within { get; }
    /// <summary>Maps a failure to a directive.</summary>
    public Func<Exception, Directive> Decider { get; }
    /// <summary>Delay between restarts; null = restart at once.</summary>
    public RestartBackoff? Backoff { get; }

    /// <summary>True when the directive applies to every child of the supervisor, not only the failed one.</summary>
    public abstract bool AppliesToAllChildren { get; }

    /// <summary>Akka's default: restart on any exception.</summary>
    public static Directive DefaultDecider(Exception e) => Directive.Restart;

    /// <summary>Restart on any failure, unlimited, without back-off.</summary>
    public static SupervisorStrategy Default { get; } = new OneForOneStrategy();
}

/// <summary>The directive applies to the failed child only.</summary>
public sealed class OneForOneStrategy(int maxRetries = -1, TimeSpan? within = null,
    Func<Exception, Directive>? decider = null, RestartBackoff? backoff = null)
    : SupervisorStrategy(maxRetries, within, decider, backoff)
{
    /// <summary>False: one-for-one.</summary>
    public override bool AppliesToAllChildren => false;
}

/// <summary>The directive applies to all children of the supervisor (they share fate).</summary>
public sealed class AllForOneStrategy(int maxRetries = -1, TimeSpan? within = null,
    Func<Exception, Directive>? decider = null, RestartBackoff? backoff = null)
    : SupervisorStrategy(maxRetries, within, decider, backoff)
{
    /// <summary>True: all-for-one.</summary>
    public override bool AppliesToAllChildren => true;
}

/// <summary>Restart bookkeeping of one child, kept by its parent.</summary>
internal sealed class ChildRestartStats
{
    public int Count;
    public long WindowStartTicks;

    /// <summary>Records one more restart; false when the strategy's limit is exceeded (the child must stop).</summary>
    public bool RequestRestart(SupervisorStrategy s, long nowTicks)
    {
        if (s.MaxRetries == 0) return false;
        if (s.Within is { } w && nowTicks - WindowStartTicks > w.Ticks)
        {
            WindowStartTicks = nowTicks;
            Count = 0;
        }
        if (Count == 0) WindowStartTicks = nowTicks;
        Count++;
        return s.MaxRetries < 0 || Count <= s.MaxRetries;
    }
}

/// <summary>
/// Configuration-shaped supervision (what HOCON maps onto): one directive for every failure, a retry budget, and an
/// optional exponential back-off. Code that needs a per-exception decider builds a <see cref="SupervisorStrategy"/> instead.
/// </summary>
public sealed record SupervisionOptions
{
    /// <summary>Directive for every failure.</summary>
    public Directive OnFailure { get; init; } = Directive.Restart;
    /// <summary>Negative = unlimited.</summary>
    public int MaxRetries { get; init; } = -1;
    /// <summary>Window of <see cref="MaxRetries"/>; null = the actor's lifetime.</summary>
    public TimeSpan? Within { get; init; }
    /// <summary>Zero = restart at once.</summary>
    public TimeSpan BackoffMin { get; init; }
    /// <summary>Longest back-off.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Growth of the back-off per restart.</summary>
    public double BackoffFactor { get; init; } = 2.0;
    /// <summary>All children share the fate of the failed one (all-for-one) instead of one-for-one.</summary>
    public bool AllForOne { get; init; }

    /// <summary>The equivalent strategy.</summary>
    public SupervisorStrategy ToStrategy()
    {
        var directive = OnFailure;
        var backoff = BackoffMin > TimeSpan.Zero ? new RestartBackoff(BackoffMin, BackoffMax, BackoffFactor) : null;
        return AllForOne
            ? new AllForOneStrategy(MaxRetries, Within, _ => directive, backoff)
            : new OneForOneStrategy(MaxRetries, Within, _ => directive, backoff);
    }
}
