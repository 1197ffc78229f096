namespace CoFUsfl.Actors;

/// <summary>
/// Virtual time: a discrete-event loop on the caller's thread. Events run one at a time in
/// (time, rank, sequence) order; the sequence number is assigned in scheduling order, which is itself
/// deterministic because only one event runs at a time. Hence a seeded run replays exactly on any machine.
/// </summary>
internal sealed class VirtualTimeEngine : Engine
{
    private readonly PriorityQueue<ScheduledItem, EventKey> _queue = new(EventKeyComparer.Instance);
    private long _now;
    private long _seq;
    private int _runningThread;

    public override long NowTicks => Volatile.Read(ref _now);
    public override bool IsVirtual => true;
    public int Pending { get { lock (_queue) return _queue.Count; } }

    public override ScheduledItem ScheduleAt(long dueTicks, long rank, Action action)
    {
        var item = new ScheduledItem(action);
        lock (_queue) _queue.Enqueue(item, new EventKey(Math.Max(dueTicks, _now), rank, _seq++));
        return item;
    }

    public override void Dispatch(ActorCell cell) => ScheduleAt(Math.Max(_now, cell.BusyUntilTicks), cell.Rank, cell.RunVirtualTurn);

    /// <summary>Time of the next live event, or null when none is queued.</summary>
    public long? NextEventTime()
    {
        lock (_queue)
        {
            while (_queue.TryPeek(out var item, out var key))
            {
                if (!item.IsCancelled) return key.Time;
                _queue.Dequeue();
            }
            return null;
        }
    }

    /// <summary>Runs the next event if it is due at or before <paramref name="limitTicks"/>. False when none is.</summary>
    public bool Step(long limitTicks)
    {
        ScheduledItem item;
        EventKey key;
        lock (_queue)
        {
            while (true)
            {
                if (!_queue.TryPeek(out item!, out key) || key.Time > limitTicks) return false;
                _queue.Dequeue();
                if (!item.IsCancelled) break;
            }
            _now = key.Time;
        }
        item.Run();
        return true;
    }

    /// <summary>Moves the clock forward to <paramref name="ticks"/> (never back) when nothing is due before it.</summary>
    public void AdvanceTo(long ticks)
    {
        lock (_queue) if (ticks > _now) _now = ticks;
    }

    /// <summary>Guards against two threads (or a handler) driving the loop at once.</summary>
    public void Enter()
    {
        var me = Environment.CurrentManagedThreadId;
        if (Interlocked.CompareExchange(ref _runningThread, me, 0) != 0)
            throw new InvalidOperationException("the virtual-time loop is already running (Run* cannot be called from inside an actor or from two threads)");
    }

    public void Exit() => Volatile.Write(ref _runningThread, 0);
}
