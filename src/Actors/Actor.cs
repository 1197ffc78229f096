namespace CoFUsfl.Actors;

/// <summary>What an actor can do besides handling its message: its identity, the current sender, children, watch, behaviour, timers, time.</summary>
public interface IActorContext
{
    /// <summary>This actor.</summary>
    ActorRef Self { get; }
    /// <summary>Sender of the message being handled (null when sent from outside any actor).</summary>
    ActorRef? Sender { get; }
    /// <summary>The supervisor (null for the guardian).</summary>
    ActorRef? Parent { get; }
    /// <summary>The system this actor lives in.</summary>
    ActorSystem System { get; }
    /// <summary>Live children (a snapshot).</summary>
    IReadOnlyCollection<ActorRef> Children { get; }

    /// <summary>Creates a child actor (name null = generated).</summary>
    ActorRef ActorOf(Props props, string? name = null);
    /// <summary>Stops an actor (this one, a child, or any local actor) after its current message.</summary>
    void Stop(ActorRef actor);
    /// <summary>Delivers <see cref="Terminated"/> when <paramref name="actor"/> stops (at once if it already has).</summary>
    ActorRef Watch(ActorRef actor);
    /// <summary>Stops watching; no <see cref="Terminated"/> will follow.</summary>
    ActorRef Unwatch(ActorRef actor);

    /// <summary>Replaces the current behaviour (or pushes it when <paramref name="discardOld"/> is false).</summary>
    void Become(Action<object> receive, bool discardOld = true);
    /// <summary>Returns to the previous behaviour (the actor's own <c>OnReceive</c> at the bottom).</summary>
    void Unbecome();

    /// <summary>Timers that send messages to this actor.</summary>
    ITimerScheduler Timers { get; }

    /// <summary>Now on the system's clock, including time charged so far by the current handler.</summary>
    TimeSpan Now { get; }

    /// <summary>
    /// Declares that handling the current message takes <paramref name="simulated"/> more time (virtual time):
    /// messages sent afterwards depart that much later and the actor stays busy until then. In real time
    /// the real duration already counts; the charge is only added to <see cref="ChargedTotal"/>.
    /// </summary>
    void ChargeTime(TimeSpan simulated);
    /// <summary>Time charged by the current handler so far.</summary>
    TimeSpan Charged { get; }
    /// <summary>Time charged by this actor since it started (all incarnations).</summary>
    TimeSpan ChargedTotal { get; }
}

/// <summary>
/// Base class of every actor. Override <see cref="OnReceive"/> (or derive from <see cref="ReceiveActor"/> for typed handlers).
/// One message at a time: state needs no locks. Instances are created by the runtime through <see cref="Props"/>.
/// </summary>
public abstract class Actor
{
    private readonly ActorCell _cell;

    /// <summary>Binds the instance to the cell that is creating it.</summary>
    protected Actor()
    {
        _cell = ActorCell.Constructing
                ?? throw new InvalidOperationException("actors are created by ActorSystem.ActorOf / Context.ActorOf through Props, not with new");
    }

    /// <summary>What this actor can do besides handling its message.</summary>
    protected IActorContext Context => _cell;
    /// <summary>This actor.</summary>
    protected ActorRef Self => _cell.Self;
    /// <summary>Sender of the current message; null when it came from outside any actor.</summary>
    protected ActorRef? Sender => _cell.CurrentSender;

    /// <summary>Handles one message. Call <see cref="Unhandled"/> for messages this actor does not understand.</summary>
    protected internal abstract void OnReceive(object message);

    /// <summary>Records the message as unhandled (a dead letter with reason "unhandled").</summary>
    protected void Unhandled(object message) => _cell.Unhandled(message);

    /// <summary>How this actor supervises its children; null = from <see cref="Props"/> or the system default.</summary>
    protected internal virtual SupervisorStrategy? SupervisorStrategy => null;

    /// <summary>After construction, before the first message (and after a restart, via <see cref="PostRestart"/>).</summary>
    protected internal virtual void PreStart() { }
    /// <summary>After the actor stopped (its children have stopped already).</summary>
    protected internal virtual void PostStop() { }

    /// <summary>On the failed instance before it is replaced. Default: stop all children, then <see cref="PostStop"/>.</summary>
    protected internal virtual void PreRestart(Exception reason, object? message)
    {
        foreach (var child in Context.Children) Context.Stop(child);
        PostStop();
    }

    /// <summary>On the new instance after a restart. Default: <see cref="PreStart"/>.</summary>
    protected internal virtual void PostRestart(Exception reason) => PreStart();
}

/// <summary>
/// An actor with typed handlers registered in its constructor: <c>Receive&lt;Ping&gt;(p =&gt; ...)</c>.
/// The first handler whose type (and predicate) matches runs; none matching = <see cref="Actor.Unhandled"/>.
/// </summary>
public abstract class ReceiveActor : Actor
{
    private List<Handler> _handlers = [];
    private bool _configuring = true;

    private readonly record struct Handler(Type Type, Func<object, bool> Invoke);

    /// <summary>Handles messages of type <typeparamref name="T"/> (and subtypes) for which <paramref name="when"/> holds.</summary>
    protected void Receive<T>(Action<T> handler, Predicate<T>? when = null)
    {
        EnsureConfiguring();
        _handlers.Add(new Handler(typeof(T), m =>
        {
            if (m is not T t || (when is not null && !when(t))) return false;
            handler(t);
            return true;
        }));
    }

    /// <summary>Handles messages of type <typeparamref name="T"/> for which <paramref name="when"/> holds (Akka's argument order).</summary>
    protected void Receive<T>(Predicate<T> when, Action<T> handler) => Receive(handler, when);

    /// <summary>Handles any message not matched by an earlier handler.</summary>
    protected void ReceiveAny(Action<object> handler)
    {
        EnsureConfiguring();
        _handlers.Add(new Handler(typeof(object), m => { handler(m); return true; }));
    }

    /// <summary>Switches to the handlers registered by <paramref name="configure"/> (which calls <c>Receive</c>).</summary>
    protected void Become(Action configure)
    {
        var previous = _handlers;
        _handlers = [];
        _configuring = true;
        try { configure(); }
        catch { _handlers = previous; throw; }
        finally { _configuring = false; }
    }

    private void EnsureConfiguring()
    {
        if (!_configuring) throw new InvalidOperationException("Receive<T> is called in the constructor or inside Become(...)");
    }

    /// <summary>Runs the first matching handler.</summary>
    protected internal sealed override void OnReceive(object message)
    {
        _configuring = false;
        var hs = _handlers;
        for (var i = 0; i < hs.Count; i++)
            if (hs[i].Invoke(message)) return;
        Unhandled(message);
    }
}
