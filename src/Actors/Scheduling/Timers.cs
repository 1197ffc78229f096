namespace CoFUsfl.Actors;

/// <summary>Per-actor timers that send a message to the actor itself, on the system's clock. Keys are any object; starting a key again replaces it.</summary>
public interface ITimerScheduler
{
    /// <summary>Sends <paramref name="message"/> once after <paramref name="delay"/>.</summary>
    void StartSingleTimer(object key, object message, TimeSpan delay);
    /// <summary>Sends <paramref name="message"/> every <paramref name="interval"/>.</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan interval);
    /// <summary>Sends <paramref name="message"/> after <paramref name="initialDelay"/>, then every <paramref name="interval"/>.</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval);
    /// <summary>True while the timer is armed.</summary>
    bool IsTimerActive(object key);
    /// <summary>Cancels a timer; a message it already queued is discarded, not delivered.</summary>
    void Cancel(object key);
    /// <summary>Cancels every timer of the actor.</summary>
    void CancelAll();
}

/// <summary>
/// Timers are touched only on the owning actor's turn; a fired timer queues a <see cref="TimerMessage"/> carrying the
/// timer's generation, and the actor delivers it only if that generation is still current (so Cancel is exact).
/// Periodic timers reschedule themselves from their previous due time, so they do not drift.
/// </summary>
internal sealed class TimerScheduler(ActorCell cell) : ITimerScheduler
{
    private readonly Dictionary<object, Timer> _timers = [];
    private int _generation;

    private sealed class Timer
    {
        public required object Key, Message;
        public required int Generation;
        public required long Interval;
        public long Due;
        public ScheduledItem? Item;
    }

    internal sealed class TimerMessage(object key, int generation)
    {
        public object Key { get; } = key;
        public int Generation { get; } = generation;
    }

    public void StartSingleTimer(object key, object message, TimeSpan delay) => Start(key, message, delay, 0);
    public void StartPeriodicTimer(object key, object message, TimeSpan interval) => StartPeriodicTimer(key, message, interval, interval);

    public void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), "a periodic timer needs a positive interval");
        Start(key, message, initialDelay, interval.Ticks);
    }

    private void Start(object key, object message, TimeSpan delay, long interval)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        Cancel(key);
        var t = new Timer { Key = key, Message = message, Generation = ++_generation, Interval = interval, Due = cell.NowTicks + Math.Max(0, delay.Ticks) };
        _timers[key] = t;
        Arm(t);
    }

    private void Arm(Timer t)
    {
        var msg = new TimerMessage(t.Key, t.Generation);
        t.Item = cell.System.Engine.ScheduleAt(t.Due, cell.Rank, () => cell.Post(new Delivery(msg, cell.Self), false));
    }

    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var t)) t.Item?.Cancel();
    }

    public void CancelAll()
    {
        foreach (var t in _timers.Values) t.Item?.Cancel();
        _timers.Clear();
    }

    /// <summary>On the actor's turn: the message to deliver for a fired timer, or null when it was cancelled or replaced.</summary>
    public object? Fired(TimerMessage m)
    {
        if (!_timers.TryGetValue(m.Key, out var t) || t.Generation != m.Generation) return null;
        if (t.Interval > 0)
        {
            t.Due += t.Interval;
            Arm(t);
        }
        else _timers.Remove(m.Key);
        return t.Message;
    }
}
