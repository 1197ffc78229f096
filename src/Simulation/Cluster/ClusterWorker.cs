using CoFUsfl.Actors;
using CoFUsfl.Actors.Remote.RabbitMq;
using CoFUsfl.Simulation.Cluster.Protocol;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Roles;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Cluster;

/// <summary>How a worker's run ended.</summary>
public enum WorkerExit
{
    /// <summary>The coordinator said the run is over.</summary>
    RunOver,
    /// <summary>Stopped from outside (SIGTERM, Ctrl-C).</summary>
    Stopped,
}

/// <summary>
/// A worker node of a cluster run (<c>cofusfl node</c>): builds the same <see cref="SimulationContext"/> as the
/// coordinator from the same configuration (same seed: same data partitions and client specs), joins the cluster with
/// its role and capacity, and hosts the <see cref="ClientActor"/>s the coordinator places on it (same names,
/// <c>client-0001</c>…), talking to the server, aggregator and coordinator on the coordinator's node.
/// </summary>
public static class ClusterWorker
{
    /// <summary>
    /// Runs until the coordinator ends the run (<see cref="WorkerExit.RunOver"/>) or <paramref name="cancel"/> fires
    /// (<see cref="WorkerExit.Stopped"/>); leaves the cluster cleanly either way. Throws <see cref="ClusterRunException"/>
    /// when no coordinator places clients here within <c>join-timeout</c>, or the coordinator leaves mid-run.
    /// </summary>
    public static WorkerExit Run(SimulationOptions o, ClusterSettings settings, Action<string> log, CancellationToken cancel,
        ITrainingImages? images = null)
    {
        if (o.Runtime.Clock != "real")
            throw new ArgumentException($"cofusfl.runtime.clock = {o.Runtime.Clock}: cluster mode runs on the real clock; set cofusfl.runtime.clock = real");
        var host = new HostState(log);
        var ctx = SimulationRunner.BuildContext(o, images, log, host.Report);
        var transport = RabbitMqTransport.Connect(settings.Transport with { Role = "worker" });
        var options = SimulationRunner.SystemOptions(o, ctx.Clients, runDir: null) with
        {
            Clock = ClockMode.RealTime, NodeName = settings.NodeName, Transport = transport,
        };
        using var system = ActorSystem.Create(options);
        transport.RecordDeadLettersIn(system);
        host.System = system;
        // A client failing here is invisible to the coordinator: say it on this node's standard error.
        system.ActorFailed += new ActorFailures(Console.Error.WriteLine).Record;
        system.ActorOf(Props.Create(() => new HostActor(ctx, host)).WithRole("cluster"), ClusterPlacement.HostName);
        using var watch = transport.Membership!.Subscribe(e =>
        {
            if (e.Kind == MemberEventKind.Left && host.Coordinator is { } c && e.Member.Node.Name == c)
                host.End.TrySetException(new ClusterRunException($"cluster: the coordinator {e.Member.Node} left ({e.Reason}) before the run was over"));
        });
        log($"node {settings.NodeName}: joined {settings.Transport.SafeUri} (virtual host {settings.Transport.EffectiveVirtualHost}) with {settings.Transport.Capacity.Slots} slot(s); waiting for a placement");
        using var reg = cancel.Register(() => host.End.TrySetResult(WorkerExit.Stopped));
        var first = Task.WhenAny(host.Placed.Task, host.End.Task, Task.Delay(settings.JoinTimeout, cancel)).GetAwaiter().GetResult();
        if (!host.Placed.Task.IsCompleted && !host.End.Task.IsCompleted)
            throw new ClusterRunException($"cluster: node {settings.NodeName} got no placement from a coordinator within {settings.JoinTimeout} (cofusfl.cluster.join-timeout); is `cofusfl run` with cofusfl.cluster.enabled = on running against the same broker and virtual host?");
        _ = first;
        var exit = host.End.Task.GetAwaiter().GetResult();
        log($"node {settings.NodeName}: {(exit == WorkerExit.RunOver ? "the run is over" : "stopped")}; {host.Hosted} client(s) hosted; leaving");
        return exit;
    }

    private sealed class HostState(Action<string> log)
    {
        public ActorSystem System = null!;
        public volatile string? Coordinator;
        public int Hosted;
        public readonly TaskCompletionSource Placed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource<WorkerExit> End = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly Action<string> Log = log;

        /// <summary>Called by a client actor right before it sends its update: the report travels ahead of it.</summary>
        public void Report(string client, uint round)
        {
            if (Coordinator is { } c) System.Resolve($"{c}/user/{ClusterPlacement.AgentName}").Tell(new UpdateSent { Client = client, Round = round });
        }
    }

    /// <summary>WORKER/user/cluster-host: spawns the clients it is given and ends the node's run.</summary>
    private sealed class HostActor : ReceiveActor
    {
        public HostActor(SimulationContext ctx, HostState host)
        {
            var specs = ctx.Clients.ToDictionary(c => c.Id, StringComparer.Ordinal);
            var hosted = new HashSet<string>(StringComparer.Ordinal);
            Receive<HostClients>(h =>
            {
                if (host.Coordinator is null)
                {
                    var sys = host.System;
                    ctx.Server = sys.Resolve($"{h.Coordinator}/user/server");
                    ctx.Aggregator = sys.Resolve($"{h.Coordinator}/user/aggregator");
                    ctx.Coordinator = sys.Resolve($"{h.Coordinator}/user/coordinator");
                    host.Coordinator = h.Coordinator;
                }
                else if (host.Coordinator != h.Coordinator)
                {
                    host.Log($"cluster: ignoring a placement from {h.Coordinator}: this node serves {host.Coordinator}");
                    return;
                }
                var added = new List<string>();
                foreach (var id in h.Clients)
                {
                    if (!specs.TryGetValue(id, out var spec))
                    {
                        host.Log($"cluster: placement names unknown client {id} (is the configuration the coordinator's?)");
                        continue;
                    }
                    if (!hosted.Add(id)) continue;
                    host.System.ActorOf(Props.Create(() => new ClientActor(ctx, spec)).WithRole("client"), id);
                    added.Add(id);
                }
                host.Hosted = hosted.Count;
                if (added.Count > 0) host.Log($"cluster: hosting {string.Join(", ", added)} (placement {h.Placement})");
                var answer = new ClientsHosted { Node = host.System.Node.Name, Placement = h.Placement };
                answer.Clients.AddRange(h.Clients.Where(hosted.Contains));
                Sender?.Tell(answer, Self);
                host.Placed.TrySetResult();
            });
            Receive<RunOver>(_ =>
            {
                Sender?.Tell(new RunOverAck { Node = host.System.Node.Name }, Self);
                host.End.TrySetResult(WorkerExit.RunOver);
            });
        }
    }
}
