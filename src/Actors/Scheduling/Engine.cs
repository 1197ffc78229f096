namespace CoFUsfl.Actors;

/// <summary>A scheduled action that can be cancelled.</summary>
public interface ICancelable
{
    /// <summary>Cancels it; no effect once it has run.</summary>
    void Cancel();
    /// <summary>True once cancelled.</summary>
    bool IsCancelled { get; }
}

/// <summary>Runs actors and delayed actions on one of the two clocks.</summary>
internal abstract class Engine : IDisposable
{
    /// <summary>Ticks (100 ns) since the system started, on this engine's clock.</summary>
    public abstract long NowTicks { get; }
    public abstract bool IsVirtual { get; }

    /// <summary>Runs <paramref name="action"/> at <paramref name="dueTicks"/> (absolute, this clock). <paramref name="rank"/> orders simultaneous virtual events.</summary>
    public abstract ScheduledItem ScheduleAt(long dueTicks, long rank, Action action);

    /// <summary>The cell has work and is not scheduled: run it (now, or in virtual time at max(now, busy-until)).</summary>
    public abstract void Dispatch(ActorCell cell);

    public virtual void Dispose() { }
}

/// <summary>A delayed action; also the cancellation handle.</summary>
internal sealed class ScheduledItem(Action action) : ICancelable
{
    private volatile bool _cancelled;
    public Action Action { get; } = action;
    public void Cancel() => _cancelled = true;
    public bool IsCancelled => _cancelled;

    public void Run()
    {
        if (!_cancelled) Action();
    }
}

internal readonly record struct EventKey(long Time, long Rank, long Seq);

internal sealed class EventKeyComparer : IComparer<EventKey>
{
    public static readonly EventKeyComparer Instance = new();

    public int Compare(EventKey x, EventKey y)
    {
        var c = x.Time.CompareTo(y.Time);
        if (c != 0) return c;
        c = x.Rank.CompareTo(y.Rank);
        return c != 0 ? c : x.Seq.CompareTo(y.Seq);
    }
}
