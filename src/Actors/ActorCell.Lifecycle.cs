namespace CoFUsfl.Actors;

/// <summary>Lifecycle, supervision and death watch of an actor.</summary>
internal sealed partial class ActorCell
{
    private Dictionary<string, ActorCell>? _children;     // live children by name (guarded by lock(this))
    private HashSet<ActorCell>? _stoppingChildren;        // stopped by this parent, termination pending
    private Dictionary<ActorCell, ChildRestartStats>? _childStats;
    private HashSet<ActorCell>? _watchers;
    private HashSet<ActorCell>? _watching;
    private object? _failedMessage;

    private void HandleSystem(SystemMessage m)
    {
        switch (m)
        {
            case SystemMessage.Create: Create(); break;
            case SystemMessage.Recreate r: Recreate(r.Cause); break;
            case SystemMessage.Resume:
                if (_lifecycle == Running)
                {
                    _suspended = false;
                    _failedMessage = null;
                }
                break;
            case SystemMessage.Terminate t: BeginTerminate(t.Reason); break;
            case SystemMessage.Watch w: (_watchers ??= []).Add(w.Watcher); break;
            case SystemMessage.Unwatch u: _watchers?.Remove(u.Watcher); break;
            case SystemMessage.DeathWatchNotification n: OnWatchedTerminated(n.Actor); break;
            case SystemMessage.Failed f: HandleChildFailed(f.Child, f.Cause); break;
            case SystemMessage.ChildTerminated c: OnChildTerminated(c.Child); break;
            case SystemMessage.Crash c:
                _system.RecordCrash(this, c.Mode, "scheduled");
                if (c.Mode == CrashMode.Stop) BeginTerminate("injected crash");
                else if (_lifecycle == Running) HandleFailure(new InjectedCrashException(Self.Address), null);
                break;
        }
    }

    private void HandleSystemWhenDead(SystemMessage m)
    {
        // A watch arriving after death must still be answered, or the watcher would wait forever.
        if (m is SystemMessage.Watch w) w.Watcher.SendSystem(new SystemMessage.DeathWatchNotification(Self));
    }

    private void Create()
    {
        if (_lifecycle != New) return;
        _lifecycle = Running;
        try
        {
            _actor = CreateInstance();
            _actor.PreStart();
            _suspended = false;
        }
        catch (Exception e)
        {
            HandleFailure(e, null);
        }
    }

    private void Recreate(Exception cause)
    {
        if (_lifecycle != Running) return;
        var failed = _actor;
        try { failed?.PreRestart(cause, _failedMessage); }
        catch (Exception e) { _system.LogLifecycle("failure", this, $"PreRestart threw {e.GetType().Name}: {e.Message}"); }
        _timers?.CancelAll();
        _behavior = null;
        _behaviorStack = null;
        _failedMessage = null;
        _system.LogLifecycle("restart", this, $"{cause.GetType().Name}: {cause.Message}");
        _system.Traffic.CountLifecycle("restart");
        try
        {
            _actor = CreateInstance();
            _actor.PostRestart(cause);
            _suspended = false;
        }
        catch (Exception e)
        {
            HandleFailure(e, null);
        }
    }

    /// <summary>The actor's handler (or constructor) threw: suspend and let the parent decide.</summary>
    private void HandleFailure(Exception e, object? message)
    {
        _suspended = true;
        _failedMessage = message;
        _system.LogLifecycle("failure", this, $"{e.GetType().Name}: {e.Message}");
        _system.Traffic.CountLifecycle("failure");
        _system.RaiseActorFailed(Self, e);
        if (_parent is null)
        {
            // The guardian has nobody to escalate to: it stops, and with it the node's user actors.
            _system.LogLifecycle("escalate", this, "guardian failed; stopping");
            BeginTerminate("guardian failure");
            return;
        }
        _parent.SendSystem(new SystemMessage.Failed(this, e));
    }

    private SupervisorStrategy StrategyForChildren =>
        _actor?.SupervisorStrategy ?? _props.SupervisorStrategy ?? SupervisorStrategy.Default;

    private void HandleChildFailed(ActorCell child, Exception cause)
    {
        if (!IsMyLiveChild(child)) return;   // stale: the child was stopped meanwhile
        var strategy = StrategyForChildren;
        Directive directive;
        try { directive = strategy.Decider(cause); }
        catch (Exception e)
        {
            _system.LogLifecycle("failure", this, $"decider threw {e.GetType().Name}: {e.Message}");
            directive = Directive.Escalate;
        }
        var targets = strategy.AppliesToAllChildren ? LiveChildren() : [child];
        switch (directive)
        {
            case Directive.Resume:
                _system.LogLifecycle("resume", child, cause.GetType().Name);
                child.SendSystem(SystemMessage.Resume.Instance);
                break;
            case Directive.Restart:
                foreach (var c in targets) RestartChild(c, strategy, cause);
                break;
            case Directive.Stop:
                foreach (var c in targets) StopChild(c, $"supervisor: stop on {cause.GetType().Name}");
                break;
            case Directive.Escalate:
                _system.LogLifecycle("escalate", child, cause.GetType().Name);
                HandleFailure(cause, null);
                break;
        }
    }

    private void RestartChild(ActorCell child, SupervisorStrategy strategy, Exception cause)
    {
        _childStats ??= [];
        if (!_childStats.TryGetValue(child, out var stats)) _childStats[child] = stats = new ChildRestartStats();
        if (!stats.RequestRestart(strategy, _system.Engine.NowTicks))
        {
            StopChild(child, $"supervisor: more than {strategy.MaxRetries} restarts");
            return;
        }
        var delay = strategy.Backoff?.DelayFor(stats.Count) ?? TimeSpan.Zero;
        var recreate = new SystemMessage.Recreate(cause);
        if (delay <= TimeSpan.Zero) child.SendSystem(recreate);
        else
        {
            _system.LogLifecycle("backoff", child, $"restart in {delay.TotalMilliseconds} ms");
            _system.Engine.ScheduleAt(_system.Engine.NowTicks + delay.Ticks, child.Rank, () => child.SendSystem(recreate));
        }
    }

    private void StopChild(ActorCell child, string reason)
    {
        lock (this)
        {
            if (_children is not null && _children.TryGetValue(ActorAddress.NameOf(child.Self.Address), out var c) && c == child)
            {
                _children.Remove(child.Self.Name);
                (_stoppingChildren ??= []).Add(child);
            }
        }
        child.SendSystem(new SystemMessage.Terminate(reason));
    }

    public void BeginTerminate(string reason)
    {
        if (_lifecycle >= Terminating) return;
        if (_lifecycle == New) _lifecycle = Running;
        _lifecycle = Terminating;
        _suspended = true;
        _timers?.CancelAll();
        _terminateReason = reason;
        foreach (var c in LiveChildren()) StopChild(c, "parent stopping");
        if (!HasChildrenPending()) FinishTerminate();
    }

    private string? _terminateReason;

    private void FinishTerminate()
    {
        _lifecycle = Dead;
        if (_actor is { } a)
        {
            var previous = t_current;
            t_current = this;
            try { a.PostStop(); }
            catch (Exception e) { _system.LogLifecycle("failure", this, $"PostStop threw {e.GetType().Name}: {e.Message}"); }
            finally { t_current = previous; }
        }
        _actor = null;
        _behavior = null;
        _system.Unregister(this);
        _system.LogLifecycle("stop", this, _terminateReason ?? "");
        _system.Traffic.CountLifecycle("stop");
        if (_watchers is { } ws)
            foreach (var w in ws) w.SendSystem(new SystemMessage.DeathWatchNotification(Self));
        _watchers = null;
        if (_watching is { } watching)
            foreach (var w in watching) w.SendSystem(new SystemMessage.Unwatch(this));
        _watching = null;
        _parent?.SendSystem(new SystemMessage.ChildTerminated(this));
        _system.OnCellTerminated(this);
    }

    private void OnChildTerminated(ActorCell child)
    {
        lock (this)
        {
            _stoppingChildren?.Remove(child);
            if (_children is not null && _children.TryGetValue(child.Self.Name, out var c) && c == child) _children.Remove(child.Self.Name);
        }
        _childStats?.Remove(child);
        if (_lifecycle == Terminating && !HasChildrenPending()) FinishTerminate();
    }

    private void OnWatchedTerminated(ActorRef actor)
    {
        if (actor is LocalActorRef l && _watching is not null && _watching.Remove(l.Cell))
            Post(new Delivery(new Terminated(actor), actor), applyOverflow: false);
    }

    private bool IsMyLiveChild(ActorCell child)
    {
        lock (this) return _children is not null && _children.TryGetValue(child.Self.Name, out var c) && c == child;
    }

    private ActorCell[] LiveChildren()
    {
        lock (this) return _children is null || _children.Count == 0 ? [] : [.. _children.Values];
    }

    private bool HasChildrenPending()
    {
        lock (this) return (_children?.Count ?? 0) + (_stoppingChildren?.Count ?? 0) > 0;
    }

    /// <summary>Creates and starts a child. Callable from any thread (system.ActorOf uses the guardian's cell).</summary>
    public ActorRef SpawnChild(Props props, string? name)
    {
        ArgumentNullException.ThrowIfNull(props);
        name ??= _system.NextGeneratedName();
        if (!ActorAddress.IsValidName(name)) throw new InvalidActorNameException($"invalid actor name '{name}'");
        if (_lifecycle >= Terminating) throw new InvalidOperationException($"{Self.Address} is stopping; it cannot create children");
        var child = new ActorCell(_system, props, this, Self.Address + "/" + name);
        lock (this)
        {
            _children ??= [];
            if (!_children.TryAdd(name, child)) throw new InvalidActorNameException($"an actor named '{name}' already exists under {Self.Address}");
        }
        _system.Register(child);
        child.Start();
        return child.Self;
    }
}
