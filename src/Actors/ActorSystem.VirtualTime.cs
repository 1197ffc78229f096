namespace CoFUsfl.Actors;

/// <summary>Driving the discrete-event loop of a virtual-time system. All Run methods run on the caller's thread.</summary>
public sealed partial class ActorSystem
{
    private VirtualTimeEngine VirtualEngine => Engine as VirtualTimeEngine
        ?? throw new InvalidOperationException("Run* drives virtual time; this system runs on the real clock (ClockMode.RealTime)");

    /// <summary>Events waiting in the virtual-time queue (0 in real time).</summary>
    public int PendingEvents => Engine is VirtualTimeEngine v ? v.Pending : 0;

    /// <summary>
    /// Runs events until none is left, or the next one lies after <paramref name="limit"/> (absolute virtual time;
    /// needed when periodic timers never let the system go idle). Returns the number of events run.
    /// </summary>
    public long RunUntilIdle(TimeSpan? limit = null)
    {
        var v = VirtualEngine;
        var max = limit?.Ticks ?? long.MaxValue;
        long n = 0;
        v.Enter();
        try { while (v.Step(max)) n++; }
        finally { v.Exit(); }
        return n;
    }

    /// <summary>Runs every event due at or before <paramref name="time"/>, then sets the clock to <paramref name="time"/>.</summary>
    public long RunUntil(TimeSpan time)
    {
        var n = RunUntilIdle(time);
        VirtualEngine.AdvanceTo(time.Ticks);
        return n;
    }

    /// <summary>Runs for <paramref name="duration"/> of virtual time from now.</summary>
    public long RunFor(TimeSpan duration) => RunUntil(Now + duration);

    /// <summary>Runs until <paramref name="condition"/> holds (checked before the first and after every event), the system is idle, or <paramref name="limit"/>. Returns the condition.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan? limit = null)
    {
        var v = VirtualEngine;
        var max = limit?.Ticks ?? long.MaxValue;
        v.Enter();
        try
        {
            while (!condition())
                if (!v.Step(max)) return condition();
            return true;
        }
        finally { v.Exit(); }
    }

    /// <summary>Runs until <paramref name="task"/> completes and returns its result. Throws <see cref="InvalidOperationException"/> when the system goes idle (or passes <paramref name="limit"/>) first.</summary>
    public T RunUntilComplete<T>(Task<T> task, TimeSpan? limit = null)
    {
        RunUntilComplete((Task)task, limit);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs until <paramref name="task"/> completes (rethrowing its exception).</summary>
    public void RunUntilComplete(Task task, TimeSpan? limit = null)
    {
        if (!RunUntil(() => task.IsCompleted, limit))
            throw new InvalidOperationException($"the virtual-time system went idle at {Now} before the task completed");
        task.GetAwaiter().GetResult();
    }
}
