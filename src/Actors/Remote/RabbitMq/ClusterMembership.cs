namespace CoFUsfl.Actors.Remote.RabbitMq;

/// <summary>Where a member stands in this node's view.</summary>
public enum MemberStatus
{
    /// <summary>Heard from within the deadline.</summary>
    Up,
    /// <summary>Silent for longer than the deadline, but its inbox still exists (e.g. the process is stopped or overloaded).</summary>
    Unreachable,
    /// <summary>Gone for good: left cleanly, its inbox vanished with its connection, or it restarted as a new incarnation.</summary>
    Left,
}

/// <summary>One node as this node sees it.</summary>
/// <param name="Node">Name and incarnation: a restarted process is a different member.</param>
/// <param name="Role">What the node is for (e.g. "worker").</param>
/// <param name="Capacity">What it offers for placement.</param>
/// <param name="Status">Current status.</param>
/// <param name="LastHeard">When its last heartbeat arrived (UTC).</param>
public sealed record Member(NodeId Node, string Role, NodeCapacity Capacity, MemberStatus Status, DateTime LastHeard);

/// <summary>Kinds of membership change.</summary>
public enum MemberEventKind
{
    Joined,
    Unreachable,
    /// <summary>An unreachable member was heard from again.</summary>
    Reachable,
    Left,
}

/// <summary>A change of the membership view, with the member as it is after the change and why it happened.</summary>
public sealed record MemberEvent(MemberEventKind Kind, Member Member, string Reason)
{
    public override string ToString() => $"{Kind} {Member.Node} ({Member.Role}): {Reason}";
}

/// <summary>
/// This node's view of the cluster, built from heartbeats (join, alive, leave) and the broker's signals
/// (a member's inbox vanishes when its connection dies). Members are keyed by name; a heartbeat with a newer
/// incarnation replaces the old member (Left, then Joined). Thread-safe; events are raised one at a time, in order.
/// </summary>
public sealed class ClusterMembership
{
    private readonly object _gate = new();
    private readonly object _raise = new();
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _departedIncarnation = new(StringComparer.Ordinal);
    private readonly TimeSpan _unreachableAfter;
    private readonly Func<DateTime> _clock;
    private readonly List<Action<MemberEvent>> _subscribers = [];

    /// <summary>Creates a view for <paramref name="self"/>; members silent for <paramref name="unreachableAfter"/> become unreachable.</summary>
    public ClusterMembership(NodeId self, TimeSpan unreachableAfter, Func<DateTime>? clock = null)
    {
        Self = self;
        _unreachableAfter = unreachableAfter;
        _clock = clock ?? (() => DateTime.UtcNow);
    }

    /// <summary>This node.</summary>
    public NodeId Self { get; }

    /// <summary>Raised for every change, on the thread that observed it. Keep handlers short; they run one at a time.</summary>
    public event Action<MemberEvent>? Changed;

    /// <summary>
    /// Subscribes <paramref name="handler"/> and first replays a Joined (and Unreachable) event for every current member,
    /// so a late subscriber misses nothing. Dispose the result to unsubscribe.
    /// </summary>
    public IDisposable Subscribe(Action<MemberEvent> handler)
    {
        lock (_raise)
        {
            foreach (var m in Members)
            {
                handler(new MemberEvent(MemberEventKind.Joined, m with { Status = MemberStatus.Up }, "already a member"));
                if (m.Status == MemberStatus.Unreachable) handler(new MemberEvent(MemberEventKind.Unreachable, m, "already unreachable"));
            }
            lock (_subscribers) _subscribers.Add(handler);
        }
        return new Unsubscriber(this, handler);
    }

    private sealed class Unsubscriber(ClusterMembership m, Action<MemberEvent> h) : IDisposable
    {
        public void Dispose()
        {
            lock (m._subscribers) m._subscribers.Remove(h);
        }
    }

    /// <summary>Members other than this node that have not left, ordered by name.</summary>
    public IReadOnlyList<Member> Members
    {
        get
        {
            lock (_gate) return [.. _members.Values.Where(m => m.Status != MemberStatus.Left).OrderBy(m => m.Node.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The member named <paramref name="name"/> (any status), if known.</summary>
    public Member? Find(string name)
    {
        lock (_gate) return _members.GetValueOrDefault(name);
    }

    /// <summary>True when <paramref name="name"/> is a member that has not left (up or unreachable).</summary>
    public bool IsMember(string name)
    {
        lock (_gate) return _members.TryGetValue(name, out var m) && m.Status != MemberStatus.Left;
    }

    /// <summary>Completes when <paramref name="condition"/> holds for <see cref="Members"/>; fails with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<Member>, bool> condition, TimeSpan timeout, CancellationToken cancel = default)
    {
        var changed = new SemaphoreSlim(0);
        using var sub = Subscribe(_ => changed.Release());
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(timeout);
        while (!condition(Members))
        {
            try { await changed.WaitAsync(cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"cluster membership: condition not met within {timeout}; members: " +
                                           string.Join(", ", Members.Select(m => $"{m.Node} {m.Status}")));
            }
        }
    }

    /// <summary>A heartbeat arrived (join, alive or leave) from <paramref name="node"/>.</summary>
    public void OnHeartbeat(NodeId node, string role, NodeCapacity capacity, bool leaving)
    {
        if (node.Name == Self.Name) return;
        var now = _clock();
        var events = new List<MemberEvent>(2);
        lock (_gate)
        {
            if (_departedIncarnation.TryGetValue(node.Name, out var gone) && node.Incarnation <= gone) return;   // a late heartbeat of a departed incarnation
            _members.TryGetValue(node.Name, out var old);
            if (old is not null && old.Node.Incarnation > node.Incarnation) return;   // stale incarnation
            if (old is not null && old.Node.Incarnation < node.Incarnation && old.Status != MemberStatus.Left)
            {
                events.Add(Depart(old, $"restarted as incarnation {node.Incarnation}"));
                old = null;
            }
            if (leaving)
            {
                if (old is not null && old.Status != MemberStatus.Left) events.Add(Depart(old, "left (clean shutdown)"));
                else _departedIncarnation[node.Name] = node.Incarnation;
            }
            else if (old is null || old.Status == MemberStatus.Left)
            {
                var m = new Member(node, role, capacity, MemberStatus.Up, now);
                _members[node.Name] = m;
                events.Add(new MemberEvent(MemberEventKind.Joined, m, "first heartbeat"));
            }
            else
            {
                var m = old with { Role = role, Capacity = capacity, Status = MemberStatus.Up, LastHeard = now };
                _members[node.Name] = m;
                if (old.Status == MemberStatus.Unreachable) events.Add(new MemberEvent(MemberEventKind.Reachable, m, "heartbeat resumed"));
            }
        }
        Raise(events);
    }

    /// <summary>
    /// Deadline check: members silent for longer than the deadline become unreachable. Returns the members that are
    /// unreachable now or silent for over two heartbeat intervals (<paramref name="suspectAfter"/>), whose inboxes are worth probing.
    /// </summary>
    public IReadOnlyList<Member> CheckDeadlines(TimeSpan suspectAfter)
    {
        var now = _clock();
        var events = new List<MemberEvent>();
        var suspects = new List<Member>();
        lock (_gate)
        {
            foreach (var m in _members.Values.ToList())
            {
                if (m.Status == MemberStatus.Left) continue;
                var silent = now - m.LastHeard;
                if (m.Status == MemberStatus.Up && silent > _unreachableAfter)
                {
                    var u = m with { Status = MemberStatus.Unreachable };
                    _members[m.Node.Name] = u;
                    events.Add(new MemberEvent(MemberEventKind.Unreachable, u, $"no heartbeat for {silent.TotalSeconds:F1} s (deadline {_unreachableAfter.TotalSeconds:F1} s)"));
                }
                if (silent > suspectAfter) suspects.Add(_members[m.Node.Name]);
            }
        }
        Raise(events);
        return suspects;
    }

    /// <summary>This node was cut off (e.g. the broker restarted): silence during the outage says nothing about the others, so their clocks restart now.</summary>
    public void Refresh()
    {
        var now = _clock();
        lock (_gate)
            foreach (var m in _members.Values.ToList())
                if (m.Status == MemberStatus.Up) _members[m.Node.Name] = m with { LastHeard = now };
    }

    /// <summary>The broker says <paramref name="node"/> is gone (its inbox vanished): it leaves, whatever its heartbeats said.</summary>
    public void OnGone(NodeId node, string reason)
    {
        MemberEvent? e = null;
        lock (_gate)
        {
            if (_members.TryGetValue(node.Name, out var m) && m.Node.Incarnation == node.Incarnation && m.Status != MemberStatus.Left)
                e = Depart(m, reason);
        }
        if (e is not null) Raise([e]);
    }

    private MemberEvent Depart(Member m, string reason)
    {
        var left = m with { Status = MemberStatus.Left };
        _members[m.Node.Name] = left;
        _departedIncarnation[m.Node.Name] = m.Node.Incarnation;
        return new MemberEvent(MemberEventKind.Left, left, reason);
    }

    private void Raise(List<MemberEvent> events)
    {
        if (events.Count == 0) return;
        lock (_raise)
        {
            Action<MemberEvent>[] subs;
            lock (_subscribers) subs = [.. _subscribers];
            foreach (var e in events)
            {
                Changed?.Invoke(e);
                foreach (var s in subs) s(e);
            }
        }
    }
}
