using System.Diagnostics;
using CoFUsfl.Actors;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Strategies;

namespace CoFUsfl.Simulation.Roles;

/// <summary>
/// The round schedule: samples the clients of each round (availability, over-commitment), hands the plan to the
/// split server and the aggregator, collects their outcome, and has the run recorded, evaluated and checkpointed.
/// Knows no model internals: it sees parameters only as named tensors to evaluate and save.
/// </summary>
public sealed class CoordinatorActor : ReceiveActor
{
    private readonly SimulationContext ctx;
    private readonly IRoundObserver observer;
    private uint round;
    private RoundResult? result;
    private ModelState? serverState;
    // The round was recorded: a duplicate (or repeated) ModelState of the aggregator must not record it again.
    private bool recorded;
    private long roundStartWall;
    private TimeSpan roundStartSim;

    private sealed record StartRound(uint Round);
    private sealed record Watch(uint Round);

    public CoordinatorActor(SimulationContext ctx, IRoundObserver observer)
    {
        this.ctx = ctx;
        this.observer = observer;
        Receive<StartRound>(s => Start(s.Round));
        Receive<RoundResult>(OnRoundResult);
        Receive<ModelState>(OnModelState);
        Receive<Watch>(OnWatch);
    }

    protected override void PreStart() => Self.Tell(new StartRound(observer.FirstRound), Self);

    private void Start(uint r)
    {
        round = r;
        result = null;
        serverState = null;
        recorded = false;
        roundStartWall = Stopwatch.GetTimestamp();
        roundStartSim = Context.Now;
        var f = ctx.Options.Federation;
        var rng = new Random((int)ctx.DeriveSeed("sample", r));
        // One draw per client whatever the trace says, so adding a trace changes no other client's fate.
        var available = ctx.Clients.Where(c => rng.NextDouble() < c.Availability & ctx.Availability.IsAvailable(c.Id, r) != false).Select(c => c.Id).ToList();
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(available));
        var sampled = available.Take(f.ClientsPerRound + f.OverCommit).Order(StringComparer.Ordinal).ToList();
        var plan = new RoundPlan { Round = r, LocalSteps = (uint)ctx.Options.Training.LocalSteps, DeadlineMs = (ulong)f.RoundDeadline.TotalMilliseconds };
        plan.Clients.AddRange(sampled);
        ctx.CurrentPlan = plan;
        observer.RoundStarted(r, sampled.Count);
        ctx.Server.Tell(plan, Self);
        ctx.Aggregator.Tell(plan, Self);
        // Control messages can be lost like any other: a watchdog repeats whatever is still unanswered.
        Context.Timers.StartPeriodicTimer("watch", new Watch(r), ctx.Options.Federation.RetryTimeout);
    }

    private void OnWatch(Watch w)
    {
        if (w.Round != round || recorded) return;
        if (result is null)
        {
            ctx.Server.Tell(ctx.CurrentPlan!, Self);
            ctx.Aggregator.Tell(ctx.CurrentPlan!, Self);
        }
        else if (serverState is null) ctx.Server.Tell(StateRequestFor(result), Self);
        else ctx.Aggregator.Tell(new StateRequest { Round = round }, Self);
    }

    private StateRequest StateRequestFor(RoundResult r)
    {
        var checkpoint = RunSchedule.CheckpointDue(ctx.Options, r.Round);
        var q = new StateRequest
        {
            Round = r.Round, OptimizerState = checkpoint,
            PersonalState = checkpoint || (ctx.Options.Evaluation.PerClient && RunSchedule.EvaluationDue(ctx.Options, r.Round)),
        };
        q.Clients.AddRange(r.Completed);
        q.Samples.AddRange(r.CompletedSamples);
        return q;
    }

    private void OnRoundResult(RoundResult r)
    {
        if (r.Round != round || result is not null) return;
        result = r;
        ctx.Server.Tell(StateRequestFor(r), Self);
    }

    private void OnModelState(ModelState s)
    {
        if (s.Round != round || result is null || recorded) return;
        if (Sender == ctx.Server && serverState is null)
        {
            serverState = s;
            ctx.Aggregator.Tell(new StateRequest { Round = round }, Self);
            return;
        }
        if (Sender != ctx.Aggregator || serverState is null) return;
        var server = ParameterSet.FromMessages(serverState.Parameters, "server state");
        var clients = ParameterSet.FromMessages(s.Parameters, "aggregator state");
        var record = new RoundRecord(round, result, serverState.ServerStats ?? new ServerStats(),
            Context.Now, Context.Now - roundStartSim, Stopwatch.GetElapsedTime(roundStartWall), server, clients)
        {
            ServerOptimizer = serverState.Optimizer.Count > 0 ? ParameterSet.FromMessages(serverState.Optimizer, "server optimizer state") : null,
            ServerPersonal = serverState.ServerPersonal.Count > 0 ? ParameterSet.FromMessages(serverState.ServerPersonal, "per-client server state") : null,
        };
        Context.Timers.Cancel("watch");
        recorded = true;
        bool more;
        try { more = observer.RoundCompleted(record, Context.System); }
        catch (Exception e)
        {
            // Restarting the coordinator would lose the round and hang the run: its recording failing ends the run.
            observer.Failed(e);
            return;
        }
        ctx.CurrentPlan = null;
        if (more) Self.Tell(new StartRound(round + 1), Self);
        else observer.Finished();
    }
}
