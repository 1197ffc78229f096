using CoFUsfl.Actors;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Roles;

/// <summary>
/// Holds the global head/tail between rounds, sends it to the sampled clients, and aggregates (the configured
/// <see cref="IFederatedStrategy"/>, FedAvg by default) the first K
/// complete client updates (weighted by samples, in client order, each client counted at most once).
/// </summary>
public sealed class AggregatorActor : ReceiveActor
{
    private readonly SimulationContext ctx;
    private ParameterSet globalModel;
    // The round's state and the update accounting live in the run's context, not in this instance: an update is
    // recorded there before it is acknowledged, so a restarted aggregator keeps every update it acknowledged.
    private readonly AggregatorJournal journal;
    private HashSet<string> participated => journal.Participated;
    private RoundPlan? plan { get => journal.Plan; set => journal.Plan = value; }
    private int keep => plan is null ? 0 : Math.Min(ctx.Options.Federation.ClientsPerRound, plan.Clients.Count);
    private Dictionary<string, (ParameterSet Set, long Samples, StepStats Stats)> updates => journal.Updates;
    private List<string> arrival => journal.Arrival;
    // Clients that acknowledged this round's global model: a repeated plan does not send it to them again.
    private HashSet<string> modelReceived => journal.ModelReceived;
    // Clients that told us they gave this round up (retransmissions exhausted).
    private HashSet<string> abandoned => journal.Abandoned;
    private HashSet<(uint, string)> late => journal.Late;
    private HashSet<(uint, string)> rejected => journal.Rejected;
    private bool closed { get => journal.Closed; set => journal.Closed = value; }
    private RoundResult? lastResult { get => journal.LastResult; set => journal.LastResult = value; }
    private RoundEnd? lastEnd { get => journal.LastEnd; set => journal.LastEnd = value; }

    private sealed record Deadline(uint Round);

    public AggregatorActor(SimulationContext ctx)
    {
        this.ctx = ctx;
        globalModel = ctx.AggregatorCheckpoint ?? InitialClientParameters(ctx);
        journal = ctx.AggregatorJournal;
        Receive<RoundPlan>(OnRoundPlan);
        Receive<ClientUpdate>(OnUpdate);
        Receive<GlobalModelAck>(a => { if (plan is not null && a.Round == plan.Round) modelReceived.Add(a.Client); });
        Receive<RoundAbandoned>(a =>
        {
            if (plan is null || a.Round != plan.Round || closed || !plan.Clients.Contains(a.Client) || updates.ContainsKey(a.Client)) return;
            // Each instance gives up or fails once: a duplicate, or a late word of an instance already replaced, is not news.
            if (journal.Incarnation.TryGetValue(a.Client, out var seen) && a.Incarnation < seen) return;
            journal.Incarnation[a.Client] = a.Incarnation + 1;
            var failed = a.Reason.StartsWith(ClientActor.RoundAbandonedFailed, StringComparison.Ordinal);
            if (failed && Rejoin(a.Client)) return;
            abandoned.Add(a.Client);
            if (failed) journal.Failed.Add(a.Client);
            CloseIfAllAccounted();
        });
        Receive<Deadline>(d => { if (plan is not null && d.Round == plan.Round && !closed) Close(); });
        // A client that stopped (crash-stop) can neither deliver nor say it gave up: death watch accounts for it.
        Receive<Terminated>(t =>
        {
            var client = ctx.ClientRefs.FirstOrDefault(kv => kv.Value.Equals(t.Actor)).Key;
            if (client is null || plan is null || closed || !plan.Clients.Contains(client) || updates.ContainsKey(client)) return;
            abandoned.Add(client);
            journal.Failed.Add(client);
            // The split server may be serving it (SFLv2 serves one client at a time): tell it, as the client would have.
            ctx.Server.Tell(new RoundAbandoned
            {
                Round = plan.Round, Client = client, Reason = $"{ClientActor.RoundAbandonedFailed}stopped (death watch)",
                Incarnation = ctx.ClientIncarnations.GetValueOrDefault(client),
            }, Self);
            CloseIfAllAccounted();
        });
        Receive<StateRequest>(r =>
        {
            var s = new ModelState { Round = r.Round };
            s.Parameters.AddRange(globalModel.ToMessages());
            Sender!.Tell(s, Self);
        });
    }

    /// <summary>The clients' initial head/tail/feature-model weights, from the run's init seed (as the server's body).</summary>
    public static ParameterSet InitialClientParameters(SimulationContext ctx)
    {
        using var g = new Generator(ctx.DeriveSeed("init"));
        using var server = new ServerModel(ctx.Plan, ctx.EntropyDownlink, ctx.Options.Split.Features.GainInit, g);
        using var client = new ClientModel(ctx.Plan, ctx.EntropyUplink, ctx.Options.Split.Features.GainInit, g);
        // Head and tail take the same initial values as the full codec the server's copy came from.
        var fromCodec = ParameterSet.FromModule(server.Codec.named_parameters(), ctx.Plan.IsClientParameter);
        fromCodec.CopyInto(client.named_parameters());
        return ParameterSet.FromModule(client.named_parameters());
    }

    /// <summary>
    /// After a restart, reopen the round in progress: the updates acknowledged before the crash are still in the
    /// journal, the global model goes to the clients that have not acknowledged it, and the deadline keeps its time.
    /// </summary>
    protected override void PreStart()
    {
        if (ctx.CurrentPlan is not { } p) return;
        var resumed = plan is not null && plan.Round == p.Round;
        OnRoundPlan(p, restarted: true);
        if (resumed && !closed)
            Context.Timers.StartSingleTimer("deadline", new Deadline(p.Round), journal.DeadlineAt > Context.Now ? journal.DeadlineAt - Context.Now : TimeSpan.Zero);
    }

    private void OnRoundPlan(RoundPlan p) => OnRoundPlan(p, restarted: false);

    /// <summary>Watches the round's clients in this process (remote ones need cluster membership: not watched here).</summary>
    private void WatchClients(RoundPlan p)
    {
        foreach (var c in p.Clients)
            if (ctx.ClientRefs.TryGetValue(c, out var r))
            {
                try { Context.Watch(r); }
                catch (NotSupportedException) { return; }
            }
    }

    private void OnRoundPlan(RoundPlan p, bool restarted)
    {
        if (restarted || plan is null || p.Round > plan.Round) WatchClients(p);
        if (plan is not null && p.Round == plan.Round)
        {
            // The coordinator repeats a plan every retry-timeout: one arriving sooner after the last one acted on is a
            // duplicate (what that one sent is still on its way), and is not acted on again.
            if (!restarted && Context.Now - journal.PlanActedAt < ctx.Options.Federation.RetryTimeout / 2) return;
            journal.PlanActedAt = Context.Now;
            // The coordinator repeats a plan it has no result for: our result, or some global models, were lost.
            if (closed && lastResult?.Round == p.Round)
            {
                ctx.Coordinator.Tell(lastResult, Self);
                ctx.Server.Tell(lastEnd!, Self);
            }
            else if (!closed)
                foreach (var c in p.Clients.Where(c => !updates.ContainsKey(c) && !modelReceived.Contains(c) && !abandoned.Contains(c)))
                    SendGlobalModel(p, c, journal.FirstModel.Contains(c));
            return;
        }
        if (plan is not null && p.Round < plan.Round) return;
        plan = p;
        journal.PlanActedAt = Context.Now;
        updates.Clear();
        arrival.Clear();
        modelReceived.Clear();
        abandoned.Clear();
        journal.Failed.Clear();
        journal.FirstModel.Clear();
        journal.Rejoins.Clear();
        journal.Incarnation.Clear();
        closed = false;
        foreach (var c in p.Clients)
        {
            var first = participated.Add(c);
            if (first) journal.FirstModel.Add(c);
            SendGlobalModel(p, c, first);
        }
        journal.DeadlineAt = Context.Now + TimeSpan.FromMilliseconds(p.DeadlineMs);
        Context.Timers.StartSingleTimer("deadline", new Deadline(p.Round), TimeSpan.FromMilliseconds(p.DeadlineMs));
        CloseIfAllAccounted(); // a round with no client has nothing to wait for
    }

    /// <summary>
    /// A client that failed mid-round restarted (it said so from its old instance): while the round is open it is sent
    /// the round's global model again and trains the round from its start, at most max-retries times a round. Its update
    /// then counts like any other; a round never waits on a client that keeps failing.
    /// </summary>
    private bool Rejoin(string client)
    {
        var n = journal.Rejoins.GetValueOrDefault(client);
        if (n >= ctx.Options.Federation.MaxRetries) return false;
        journal.Rejoins[client] = n + 1;
        modelReceived.Remove(client); // a repeated plan resends it, should this one be lost
        SendGlobalModel(plan!, client, journal.FirstModel.Contains(client));
        return true;
    }

    /// <summary>Every sampled client delivered, was rejected, or gave up: nothing more can come, the deadline is not waited for.</summary>
    private void CloseIfAllAccounted()
    {
        if (!closed && plan!.Clients.All(c => updates.ContainsKey(c) || abandoned.Contains(c) || rejected.Contains((plan.Round, c)))) Close();
    }

    /// <summary>Personal parameters leave the aggregator only once, as a client's starting point.</summary>
    private void SendGlobalModel(RoundPlan p, string client, bool first)
    {
        var m = new GlobalModel { Round = p.Round, LocalSteps = p.LocalSteps, DeadlineMs = p.DeadlineMs };
        m.Parameters.AddRange(globalModel.ToMessages(n => first || !ctx.Personal.Matches(n)));
        ctx.ClientRefs[client].Tell(m, Self);
    }

    private void OnUpdate(ClientUpdate u)
    {
        if (Sender is { } from) ctx.UpdateArrived?.Invoke(from.Address, u.Round);
        if (plan is null || u.Round > plan.Round) return;
        if (journal.Counted.Contains((u.Round, u.Client)) || rejected.Contains((u.Round, u.Client)) || late.Contains((u.Round, u.Client)))
        {
            Ack(u); // handled once; a retransmission is acked again
            return;
        }
        if (u.Round < plan.Round)
        {
            if (late.Add((u.Round, u.Client))) Interlocked.Increment(ref ctx.Updates.Late);
            Ack(u);
            return;
        }
        if (!plan.Clients.Contains(u.Client)) return;
        if (updates.ContainsKey(u.Client))
        {
            Ack(u); // counted once; ack again
            return;
        }
        if (closed)
        {
            // Past the K-th update or the deadline: accounted as late, acknowledged so the client stops retrying.
            if (late.Add((u.Round, u.Client))) Interlocked.Increment(ref ctx.Updates.Late);
            Ack(u);
            return;
        }
        ParameterSet set;
        var expected = globalModel.Names.Where(n => !ctx.Personal.Matches(n)).ToHashSet(StringComparer.Ordinal);
        try
        {
            set = ParameterSet.FromMessages(u.Parameters, $"update of {u.Client}, round {u.Round}");
            if (!expected.SetEquals(set.Names)) throw new InvalidDataException($"update of {u.Client} does not hold the client-side parameters");
        }
        catch (InvalidDataException)
        {
            // Never a partial update in FedAvg; the client's update is refused (and acknowledged as handled).
            if (rejected.Add((u.Round, u.Client))) Interlocked.Increment(ref ctx.Updates.Rejected);
            Ack(u);
            CloseIfAllAccounted();
            return;
        }
        updates[u.Client] = (set, (long)u.Samples, u.Stats ?? new StepStats());
        arrival.Add(u.Client);
        Ack(u);
        if (arrival.Count >= keep) Close();
        else CloseIfAllAccounted();
    }

    /// <summary>Acknowledges each attempt of an update once: a duplicate of the attempt acknowledged gets no second ack.</summary>
    private void Ack(ClientUpdate u)
    {
        if (journal.Acked.TryGetValue((u.Round, u.Client), out var a) && a == u.Attempt) return;
        journal.Acked[(u.Round, u.Client)] = u.Attempt;
        Sender?.Tell(new UpdateAck { Round = u.Round, Client = u.Client }, Self);
    }

    /// <summary>Closes the round: K updates arrived, every sampled client is accounted for, or the deadline passed.</summary>
    private void Close()
    {
        closed = true;
        Context.Timers.Cancel("deadline");
        var reachedK = arrival.Count >= keep;
        var kept = arrival.Take(keep).ToList();
        foreach (var c in kept) journal.Counted.Add((plan!.Round, c));
        Interlocked.Add(ref ctx.Updates.Counted, kept.Count);
        if (kept.Count > 0)
        {
            journal.Strategy ??= FederatedStrategy.Create(ctx.Options.Federation.Strategy);
            var avg = journal.Strategy.AggregateFit(plan!.Round, globalModel, kept.Select(c => new WeightedUpdate(c, updates[c].Set, updates[c].Samples)).ToList());
            foreach (var n in avg.Names) globalModel.Set(n, avg[n].Shape, avg[n].Values);
        }
        ctx.AggregatorCheckpoint = globalModel;
        var end = new RoundEnd { Round = plan!.Round };
        foreach (var c in kept.Order(StringComparer.Ordinal)) { end.Clients.Add(c); end.Samples.Add((ulong)updates[c].Samples); }
        ctx.Server.Tell(end, Self);
        var result = new RoundResult { Round = plan.Round, Samples = (ulong)kept.Sum(c => updates[c].Samples) };
        result.Completed.AddRange(kept.Order(StringComparer.Ordinal));
        result.CompletedSamples.AddRange(kept.Order(StringComparer.Ordinal).Select(c => (ulong)updates[c].Samples));
        result.Dropped.AddRange(plan.Clients.Where(c => !kept.Contains(c)).Order(StringComparer.Ordinal));
        foreach (var c in result.Dropped)
            result.DroppedReasons[c] = journal.Failed.Contains(c) ? "failed"
                : abandoned.Contains(c) ? "gave_up"
                : rejected.Contains((plan.Round, c)) ? "rejected"
                : updates.ContainsKey(c) || reachedK ? "surplus" : "no_update";
        result.ClientStats.AddRange(kept.Order(StringComparer.Ordinal).Select(c => updates[c].Stats));
        result.Rejoined = (uint)journal.Rejoins.Values.Sum();
        lastResult = result;
        lastEnd = end;
        ctx.Coordinator.Tell(result, Self);
    }
}

/// <summary>
/// What the aggregator must not forget when it restarts (kept in <see cref="SimulationContext.AggregatorJournal"/>, like
/// the checkpoints): the round in progress with the updates it acknowledged, and which (round, client) updates were
/// counted, late or rejected, so a duplicate or a retransmission is never counted twice.
/// </summary>
public sealed class AggregatorJournal
{
    public RoundPlan? Plan;
    public TimeSpan DeadlineAt;
    /// <summary>When a plan of the round was last acted on (sent global models or the result): a duplicate sooner is ignored.</summary>
    public TimeSpan PlanActedAt;
    public bool Closed = true;
    public RoundResult? LastResult;
    public RoundEnd? LastEnd;
    public readonly Dictionary<string, (ParameterSet Set, long Samples, StepStats Stats)> Updates = new(StringComparer.Ordinal);
    public readonly List<string> Arrival = [];
    public readonly HashSet<string> ModelReceived = new(StringComparer.Ordinal), Abandoned = new(StringComparer.Ordinal), Failed = new(StringComparer.Ordinal), Participated = new(StringComparer.Ordinal);
    public readonly HashSet<(uint, string)> Counted = [], Late = [], Rejected = [];
    /// <summary>Clients of the round in progress sent their personal parameters with its global model (their first round).</summary>
    public readonly HashSet<string> FirstModel = new(StringComparer.Ordinal);
    /// <summary>How often each client of the round in progress that failed mid-round was sent the global model again.</summary>
    public readonly Dictionary<string, int> Rejoins = new(StringComparer.Ordinal);
    /// <summary>Per client of the round in progress: one more than the newest incarnation whose RoundAbandoned was acted on.</summary>
    public readonly Dictionary<string, uint> Incarnation = new(StringComparer.Ordinal);
    /// <summary>The attempt of each (round, client) update last acknowledged.</summary>
    public readonly Dictionary<(uint, string), uint> Acked = [];
    /// <summary>The federated strategy with its state (FedAdam's moments): kept across aggregator restarts.</summary>
    public IFederatedStrategy? Strategy;
}
