using CoFUsfl.Actors;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Roles;

/// <summary>
/// Holds the global head/tail between rounds, sends it to the sampled clients, and runs FedAvg over the first K
/// complete client updates (weighted by samples, in client order, each client counted at most once).
/// </summary>
public sealed class AggregatorActor : ReceiveActor
{
    private readonly SimulationContext ctx;
    private ParameterSet globalModel;
    private readonly HashSet<string> participated = new(StringComparer.Ordinal);
    private RoundPlan? plan;
    private int keep;
    private readonly Dictionary<string, (ParameterSet Set, long Samples, StepStats Stats)> updates = new(StringComparer.Ordinal);
    private readonly List<string> arrival = [];
    // Clients that acknowledged this round's global model: a repeated plan does not send it to them again.
    private readonly HashSet<string> modelReceived = new(StringComparer.Ordinal);
    // Clients that told us they gave this round up (retransmissions exhausted).
    private readonly HashSet<string> abandoned = new(StringComparer.Ordinal);
    private readonly HashSet<(uint, string)> late = [], rejected = [];
    private bool closed = true;
    private RoundResult? lastResult;
    private RoundEnd? lastEnd;

    private sealed record Deadline(uint Round);

    public AggregatorActor(SimulationContext ctx)
    {
        this.ctx = ctx;
        globalModel = ctx.AggregatorCheckpoint ?? InitialClientParameters(ctx);
        Receive<RoundPlan>(OnRoundPlan);
        Receive<ClientUpdate>(OnUpdate);
        Receive<GlobalModelAck>(a => { if (plan is not null && a.Round == plan.Round) modelReceived.Add(a.Client); });
        Receive<RoundAbandoned>(a => { if (plan is not null && a.Round == plan.Round && !closed) abandoned.Add(a.Client); });
        Receive<Deadline>(d => { if (plan is not null && d.Round == plan.Round && !closed) Close(byDeadline: true); });
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

    /// <summary>After a restart, reopen the round in progress (clients already done ignore the repeated global model).</summary>
    protected override void PreStart()
    {
        if (ctx.CurrentPlan is { } p) OnRoundPlan(p);
    }

    private void OnRoundPlan(RoundPlan p)
    {
        if (plan is not null && p.Round == plan.Round)
        {
            // The coordinator repeats a plan it has no result for: our result, or some global models, were lost.
            if (closed && lastResult?.Round == p.Round)
            {
                ctx.Coordinator.Tell(lastResult, Self);
                ctx.Server.Tell(lastEnd!, Self);
            }
            else if (!closed)
                foreach (var c in p.Clients.Where(c => !updates.ContainsKey(c) && !modelReceived.Contains(c))) SendGlobalModel(p, c, first: false);
            return;
        }
        if (plan is not null && p.Round < plan.Round) return;
        plan = p;
        keep = Math.Min(ctx.Options.Federation.ClientsPerRound, p.Clients.Count);
        updates.Clear();
        arrival.Clear();
        modelReceived.Clear();
        abandoned.Clear();
        closed = false;
        foreach (var c in p.Clients) SendGlobalModel(p, c, participated.Add(c));
        Context.Timers.StartSingleTimer("deadline", new Deadline(p.Round), TimeSpan.FromMilliseconds(p.DeadlineMs));
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
        if (u.Round < plan.Round)
        {
            if (late.Add((u.Round, u.Client))) Interlocked.Increment(ref ctx.Updates.Late);
            Sender?.Tell(new UpdateAck { Round = u.Round, Client = u.Client }, Self);
            return;
        }
        if (!plan.Clients.Contains(u.Client)) return;
        if (updates.ContainsKey(u.Client))
        {
            Sender?.Tell(new UpdateAck { Round = u.Round, Client = u.Client }, Self); // counted once; ack again
            return;
        }
        if (closed)
        {
            // Past the K-th update or the deadline: accounted as late, acknowledged so the client stops retrying.
            if (late.Add((u.Round, u.Client))) Interlocked.Increment(ref ctx.Updates.Late);
            Sender?.Tell(new UpdateAck { Round = u.Round, Client = u.Client }, Self);
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
            Sender?.Tell(new UpdateAck { Round = u.Round, Client = u.Client }, Self);
            return;
        }
        updates[u.Client] = (set, (long)u.Samples, u.Stats ?? new StepStats());
        arrival.Add(u.Client);
        Sender?.Tell(new UpdateAck { Round = u.Round, Client = u.Client }, Self);
        if (arrival.Count >= keep) Close(byDeadline: false);
    }

    /// <param name="byDeadline">The round's deadline passed (else K updates arrived: the others were surplus).</param>
    private void Close(bool byDeadline)
    {
        closed = true;
        Context.Timers.Cancel("deadline");
        var kept = arrival.Take(keep).ToList();
        Interlocked.Add(ref ctx.Updates.Counted, kept.Count);
        if (kept.Count > 0)
        {
            var avg = ParameterSet.FedAvg(kept.Select(c => (c, updates[c].Set, updates[c].Samples)).ToList());
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
            result.DroppedReasons[c] = abandoned.Contains(c) ? "gave_up" : updates.ContainsKey(c) || !byDeadline ? "surplus" : "no_update";
        result.ClientStats.AddRange(kept.Order(StringComparer.Ordinal).Select(c => updates[c].Stats));
        lastResult = result;
        lastEnd = end;
        ctx.Coordinator.Tell(result, Self);
    }
}
