namespace CoFUsfl.Actors;

/// <summary>The <see cref="IActorContext"/> an actor sees. Called only on the actor's own turn.</summary>
internal sealed partial class ActorCell : IActorContext
{
    private TimerScheduler? _timers;

    ActorRef IActorContext.Self => Self;
    ActorRef? IActorContext.Sender => _currentSender;
    ActorRef? IActorContext.Parent => _parent?.Self;
    ActorSystem IActorContext.System => _system;

    IReadOnlyCollection<ActorRef> IActorContext.Children
    {
        get { lock (this) return _children is null ? [] : [.. _children.Values.Select(c => (ActorRef)c.Self)]; }
    }

    ActorRef IActorContext.ActorOf(Props props, string? name) => SpawnChild(props, name);

    void IActorContext.Stop(ActorRef actor)
    {
        if (actor is not LocalActorRef l) throw new NotSupportedException($"only local actors can be stopped ({actor.Address} is remote)");
        if (l.Cell == this) BeginTerminate("stopped by itself");
        else if (l.Cell._parent == this) StopChild(l.Cell, "stopped by parent");
        else l.Cell.SendSystem(new SystemMessage.Terminate($"stopped by {Self.Address}"));
    }

    ActorRef IActorContext.Watch(ActorRef actor)
    {
        if (actor is not LocalActorRef l)
            throw new NotSupportedException($"death watch of remote actors ({actor.Address}) needs cluster membership, which this runtime does not have yet");
        if (l.Cell != this && (_watching ??= []).Add(l.Cell)) l.Cell.SendSystem(new SystemMessage.Watch(this));
        return actor;
    }

    ActorRef IActorContext.Unwatch(ActorRef actor)
    {
        if (actor is LocalActorRef l && _watching is not null && _watching.Remove(l.Cell)) l.Cell.SendSystem(new SystemMessage.Unwatch(this));
        return actor;
    }

    void IActorContext.Become(Action<object> receive, bool discardOld)
    {
        ArgumentNullException.ThrowIfNull(receive);
        if (!discardOld) (_behaviorStack ??= []).Add(_behavior ?? _actor!.OnReceive);
        _behavior = receive;
    }

    void IActorContext.Unbecome()
    {
        if (_behaviorStack is { Count: > 0 } s)
        {
            _behavior = s[^1];
            s.RemoveAt(s.Count - 1);
        }
        else _behavior = null;
    }

    ITimerScheduler IActorContext.Timers => _timers ??= new TimerScheduler(this);

    TimeSpan IActorContext.Now => TimeSpan.FromTicks(NowTicks);

    void IActorContext.ChargeTime(TimeSpan simulated)
    {
        if (simulated < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(simulated), "time cannot be charged backwards");
        if (t_current != this) throw new InvalidOperationException("ChargeTime is called from the actor's own handler");
        _charged += simulated.Ticks;
    }

    TimeSpan IActorContext.Charged => TimeSpan.FromTicks(_charged);
    TimeSpan IActorContext.ChargedTotal => TimeSpan.FromTicks(_chargedTotal + _charged);
}
