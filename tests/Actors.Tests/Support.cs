using System.Collections.Concurrent;

namespace CoFUsfl.Actors.Tests;

/// <summary>Collects every message it receives; tests wait on it (real time) or read it after running the loop (virtual time).</summary>
public sealed class Probe : Actor
{
    private readonly Inbox _inbox;
    public Probe(Inbox inbox) => _inbox = inbox;
    protected override void OnReceive(object message) => _inbox.Add(message, Sender, Context.Now);
}

public sealed class Inbox
{
    private readonly BlockingCollection<(object Message, ActorRef? Sender, TimeSpan At)> _queue = new();
    public ConcurrentQueue<(object Message, ActorRef? Sender, TimeSpan At)> All { get; } = new();

    public void Add(object m, ActorRef? sender, TimeSpan at)
    {
        All.Enqueue((m, sender, at));
        _queue.Add((m, sender, at));
    }

    public T Expect<T>(TimeSpan? timeout = null)
    {
        if (!_queue.TryTake(out var item, timeout ?? TimeSpan.FromSeconds(5)))
            throw new TimeoutException($"expected a {typeof(T).Name}, got nothing");
        item.Message.Should().BeOfType<T>();
        return (T)item.Message;
    }

    public void ExpectNothing(TimeSpan wait) =>
        _queue.TryTake(out var item, wait).Should().BeFalse($"no message was expected, got {item.Message}");

    public int Count => All.Count;
    public List<T> OfType<T>() => All.Select(x => x.Message).OfType<T>().ToList();
}

public static class Systems
{
    public static ActorSystem Virtual(ActorSystemOptions? o = null) =>
        ActorSystem.Create((o ?? new ActorSystemOptions()) with { Clock = ClockMode.Virtual });

    public static ActorSystem Real(ActorSystemOptions? o = null) =>
        ActorSystem.Create((o ?? new ActorSystemOptions()) with { Clock = ClockMode.RealTime });

    public static (ActorRef Ref, Inbox Inbox) Probe(this ActorSystem system, string name)
    {
        var inbox = new Inbox();
        return (system.ActorOf(Props.Create(() => new Probe(inbox)), name), inbox);
    }
}

/// <summary>Replies to a Ping with a Pong of the same number; to anything else with the message itself.</summary>
public sealed class Echo : Actor
{
    protected override void OnReceive(object message)
    {
        if (message is Messages.Ping p) Sender?.Tell(new Messages.Pong { N = p.N });
        else Sender?.Tell(message);
    }
}
