using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Simulation.Cluster.Protocol;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Cluster;

/// <summary>A cluster run could not start or go on (no workers in time, a worker that does not answer, no capacity left).</summary>
public sealed class ClusterRunException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The coordinator's side of cluster mode (<c>cofusfl run</c> with <c>cofusfl.cluster.enabled = on</c>): the split server,
/// aggregator and coordinator run here; the clients run on worker nodes (<c>cofusfl node</c>). Waits for
/// <c>min-nodes</c> workers, places the clients by capacity (<see cref="CapacityPlacement"/>), has each worker spawn its
/// clients and points <see cref="SimulationContext.ClientRefs"/> at them. When a worker leaves, its clients are placed on
/// the others (the round in progress goes on: the coordinator's watchdog repeats the global model to clients without an
/// update, and the aggregator's deadline closes the round if they cannot make it). Client update reports
/// (<see cref="UpdateSent"/>) arrive at <c>NODE/user/cluster</c> and count <see cref="UpdateCounters.Sent"/>, as do updates whose report a broker restart lost.
/// </summary>
public sealed class ClusterPlacement : IClientPlacement
{
    /// <summary>Name of the coordinator's cluster actor (update reports).</summary>
    public const string AgentName = "cluster";
    /// <summary>Name of a worker's host actor (placement).</summary>
    public const string HostName = "cluster-host";

    private readonly ClusterSettings settings;
    private readonly RabbitMqTransport transport;
    private readonly Action<string> log;
    private readonly object placing = new();   // one placement at a time (it waits for the hosts' answers)
    private readonly object gate = new();      // the placement map; held only briefly
    private readonly Dictionary<string, string> placement = new(StringComparer.Ordinal);
    private ActorSystem? system;
    private SimulationContext? ctx;
    private IDisposable? subscription;
    private ulong placementSeq;
    private volatile bool finishing;

    /// <param name="transport">Connected with this node's settings; the system created from <see cref="Configure"/> owns and disposes it.</param>
    public ClusterPlacement(ClusterSettings settings, RabbitMqTransport transport, Action<string>? log = null)
    {
        this.settings = settings;
        this.transport = transport;
        this.log = log ?? (s => Console.Error.WriteLine(s));
    }

    /// <summary>How long a worker has to answer a placement (spawning its clients).</summary>
    public TimeSpan HostTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Client → worker node, as placed now.</summary>
    public IReadOnlyDictionary<string, string> Placement
    {
        get { lock (gate) return new Dictionary<string, string>(placement, StringComparer.Ordinal); }
    }

    public IReadOnlySet<string> RemoteRoles { get; } = new HashSet<string>(["client"], StringComparer.Ordinal);

    public ActorSystemOptions Configure(ActorSystemOptions options) =>
        options with { Clock = ClockMode.RealTime, NodeName = settings.NodeName, Transport = transport };

    public void PlaceClients(ActorSystem sys, SimulationContext context)
    {
        system = sys;
        ctx = context;
        transport.RecordDeadLettersIn(sys);
        var sent = new SentUpdates(context.Updates, context.ClientFinished);
        context.UpdateArrived = sent.Mark;
        sys.ActorOf(Props.Create(() => new CoordinatorAgent(sent)).WithRole("cluster"), AgentName);
        var membership = transport.Membership ?? throw new InvalidOperationException("the transport was not started by the actor system");
        log($"cluster: waiting up to {settings.JoinTimeout} for {settings.MinNodes} worker node(s) on {settings.Transport.SafeUri} (virtual host {settings.Transport.EffectiveVirtualHost})");
        try
        {
            membership.WaitForAsync(ms => Workers(ms).Count >= settings.MinNodes, settings.JoinTimeout).GetAwaiter().GetResult();
        }
        catch (TimeoutException e)
        {
            throw new ClusterRunException($"cluster: {settings.MinNodes} worker node(s) did not join within {settings.JoinTimeout} " +
                                          $"(cofusfl.cluster.min-nodes / join-timeout). {e.Message}", e);
        }
        lock (placing) Place(Workers(membership.Members), initial: true);
        subscription = membership.Subscribe(OnMemberEvent);
    }

    private static List<Member> Workers(IReadOnlyList<Member> members) =>
        [.. members.Where(m => m.Role == "worker" && m.Status == MemberStatus.Up)];

    /// <summary>Places every client on <paramref name="workers"/> (keeping those whose node is still there) and waits for the hosts' answers.</summary>
    private void Place(IReadOnlyList<Member> workers, bool initial)
    {
        var sys = system!;
        var c = ctx!;
        var nodes = workers.Select(m => new PlacementNode(m.Node.Name, m.Capacity.Slots)).ToList();
        Dictionary<string, string> next, current;
        lock (gate) current = new Dictionary<string, string>(placement, StringComparer.Ordinal);
        try { next = CapacityPlacement.Assign(c.Clients.Select(x => x.Id), nodes, current); }
        catch (InvalidOperationException e) { throw new ClusterRunException($"cluster: {e.Message}", e); }
        var moved = next.Where(kv => !current.TryGetValue(kv.Key, out var old) || old != kv.Value)
            .GroupBy(kv => kv.Value, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var seq = ++placementSeq;
        var asks = new List<(string Node, List<string> Clients, Task<ClientsHosted> Answer)>();
        foreach (var g in moved)
        {
            var msg = new HostClients { Coordinator = sys.Node.Name, Placement = seq };
            var ids = g.Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
            msg.Clients.AddRange(ids);
            asks.Add((g.Key, ids, sys.Ask<ClientsHosted>(sys.Resolve($"{g.Key}/user/{HostName}"), msg, HostTimeout)));
        }
        foreach (var (node, ids, answer) in asks)
        {
            try { answer.GetAwaiter().GetResult(); }
            catch (TimeoutException e)
            {
                if (initial) throw new ClusterRunException($"cluster: worker {node} did not take its {ids.Count} client(s) within {HostTimeout}", e);
                log($"cluster: worker {node} did not take its {ids.Count} client(s) within {HostTimeout}; they wait for the next departure or the round deadline");
                continue;
            }
            foreach (var id in ids)
            {
                lock (gate) placement[id] = node;
                // Only values of existing keys change after the start: readers on other threads see the old or the new reference.
                c.ClientRefs[id] = sys.Resolve($"{node}/user/{id}");
            }
            log($"cluster: {ids.Count} client(s) on {node}: {string.Join(", ", ids)}");
        }
    }

    private void OnMemberEvent(MemberEvent e)
    {
        if (e.Kind != MemberEventKind.Left || finishing) return;
        bool hosted;
        lock (gate) hosted = placement.ContainsValue(e.Member.Node.Name);
        if (!hosted) return;
        log($"cluster: worker {e.Member.Node} left ({e.Reason}); placing its clients on the others");
        // Membership handlers must be short: the placement (which waits for answers) runs on its own.
        _ = Task.Run(() =>
        {
            try
            {
                lock (placing)
                {
                    if (finishing) return;
                    Place(Workers(transport.Membership!.Members), initial: false);
                }
            }
            catch (ClusterRunException x) { log($"{x.Message}; the rounds go on with the clients still placed"); }
        });
    }

    /// <summary>Lets updates reported as sent arrive (a client's report precedes its update), at most one retry timeout.</summary>
    public void Settle(ActorSystem sys, SimulationContext context)
    {
        var u = context.Updates;
        SpinWait.SpinUntil(() => Interlocked.Read(ref u.Sent) - Interlocked.Read(ref u.Counted) - Interlocked.Read(ref u.Late) - Interlocked.Read(ref u.Rejected) <= 0,
            context.Options.Federation.RetryTimeout);
    }

    /// <summary>
    /// Tells every worker the run is over (they stop their clients and leave) and waits for their acknowledgements, so
    /// that this node's leave (on the membership exchange) cannot overtake the message and read as a crash.
    /// </summary>
    public void Finish(ActorSystem sys, SimulationContext context)
    {
        finishing = true;
        subscription?.Dispose();
        var acks = (transport.Membership?.Members.Where(m => m.Role == "worker") ?? [])
            .Select(m => (m.Node.Name, Ack: sys.Ask<RunOverAck>(sys.Resolve($"{m.Node.Name}/user/{HostName}"), new RunOver { Reason = "the run is over" }, RunOverTimeout)))
            .ToList();
        foreach (var (node, ack) in acks)
        {
            try { ack.GetAwaiter().GetResult(); }
            catch (TimeoutException) { log($"cluster: worker {node} did not acknowledge the end of the run within {RunOverTimeout}"); }
        }
    }

    /// <summary>How long the end of the run waits for each worker's acknowledgement.</summary>
    public TimeSpan RunOverTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>NODE/user/cluster on the coordinator: counts update reports.</summary>
    private sealed class CoordinatorAgent : ReceiveActor
    {
        public CoordinatorAgent(SentUpdates sent) =>
            Receive<UpdateSent>(u => sent.Mark(Sender?.Address ?? u.Client, u.Round));
    }
}
