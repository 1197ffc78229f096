namespace CoFUsfl.Actors;

/// <summary>Dead letters, lifecycle records and the event log.</summary>
public sealed partial class ActorSystem
{
    private readonly JsonLinesEventLog? _log;
    private readonly Queue<DeadLetter> _recentDeadLetters = new();
    private long _deadLetterCount;

    /// <summary>Raised for every dead letter, on the thread that produced it. Keep handlers short.</summary>
    public event Action<DeadLetter>? DeadLetterRecorded;

    /// <summary>Dead letters so far.</summary>
    public long DeadLetterCount => Interlocked.Read(ref _deadLetterCount);

    /// <summary>The most recent dead letters (up to <see cref="ActorSystemOptions.DeadLetterHistory"/>), oldest first.</summary>
    public IReadOnlyList<DeadLetter> RecentDeadLetters
    {
        get { lock (_recentDeadLetters) return [.. _recentDeadLetters]; }
    }

    internal void RecordDeadLetter(DeadLetter dl, bool log = true)
    {
        Interlocked.Increment(ref _deadLetterCount);
        if (Options.DeadLetterHistory > 0)
            lock (_recentDeadLetters)
            {
                _recentDeadLetters.Enqueue(dl);
                while (_recentDeadLetters.Count > Options.DeadLetterHistory) _recentDeadLetters.Dequeue();
            }
        if (log && Logging)
            Log(new ActorEvent(Engine.NowTicks, "drop", dl.Sender, dl.Recipient, 0, dl.Message.GetType().Name, 0, null, dl.Reason));
        DeadLetterRecorded?.Invoke(dl);
    }

    internal void DeadLetterOf(in Delivery d, ActorRef recipient, string reason)
    {
        var message = d.Message;
        if (message is Traced t)
        {
            if (t.Stats is { } s) s.Add(Ctr.DeadLettered);
            if (Logging) Log(new ActorEvent(Engine.NowTicks, "drop", d.Sender?.Address, recipient.Address, t.Id, t.Type, t.Size, null, reason));
            RecordDeadLetter(new DeadLetter(t.Message, d.Sender?.Address, recipient.Address, reason), log: false);
            return;
        }
        if (message is TimerScheduler.TimerMessage) return;   // a timer of a stopped actor: not a lost message
        RecordDeadLetter(new DeadLetter(message, d.Sender?.Address, recipient.Address, reason));
    }

    /// <summary>
    /// Every event the log would record (send, deliver, drop, fault, lifecycle), raised on the thread that produced it,
    /// whether or not a log file is configured: a hook for live metrics. Subscribe before traffic starts. Keep handlers
    /// short and do not send messages from them. (A real-time system with no counters, log, links, faults or serialization
    /// configured takes a direct path that records no per-message events.)
    /// </summary>
    public event Action<ActorEvent>? EventRecorded;

    private bool Logging => _log is not null || EventRecorded is not null;

    internal void Log(in ActorEvent e)
    {
        _log?.Write(e);
        EventRecorded?.Invoke(e);
    }

    /// <summary>
    /// Raised when an actor's handler or constructor throws, on the failing actor's thread, before its supervisor decides
    /// (restart, stop, …). Lets an application report failures that supervision would otherwise absorb silently.
    /// An exception thrown by a handler of this event is ignored.
    /// </summary>
    public event Action<ActorRef, Exception>? ActorFailed;

    internal void RaiseActorFailed(ActorRef actor, Exception e)
    {
        try { ActorFailed?.Invoke(actor, e); }
        catch (Exception) { /* a reporting hook must not change supervision */ }
    }

    internal void LogLifecycle(string kind, ActorCell cell, string detail)
    {
        if (Logging) Log(new ActorEvent(Engine.NowTicks, kind, null, cell.Self.Address, 0, null, 0, null, detail));
    }

    internal void RecordCrash(ActorCell cell, CrashMode mode, string how)
    {
        var kind = mode == CrashMode.Stop ? "crash-stop" : "crash-restart";
        Traffic.CountFault(kind);
        if (Logging) Log(new ActorEvent(Engine.NowTicks, "fault", null, cell.Self.Address, 0, null, 0, kind, how));
    }

    /// <summary>Flushes the event log (it is also flushed at <see cref="Dispose"/>).</summary>
    public void FlushEventLog() => _log?.Flush();
}
