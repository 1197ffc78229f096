using System.Diagnostics;
using CoFUsfl.Actors;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Roles;

/// <summary>
/// A simulated device. Holds its images, and — only while it takes part in a round — the head, the tail and the
/// split-1 feature entropy model. Runs the client half of each local step (transfers [1]–[4]); its pixels and
/// reconstructions never leave it. Idle, it keeps only its personal parameters.
/// </summary>
public sealed class ClientActor : ReceiveActor
{
    private readonly SimulationContext ctx;
    private readonly ClientSpec spec;
    // This instance's restarts before it (0 until the client first crashes): stamped on [1] and [3].
    private readonly uint incarnation;
    private ParameterSet? personal;
    private ulong lastTablesSent;
    private uint lastRound;
    private ActiveRound? active;

    private enum Phase { AwaitFeatures2, AwaitGradient1, AwaitAck }

    private sealed record Retry(uint Round, uint Step, Phase Phase, int Attempt);

    /// <summary>Everything of one round; disposed when the round ends for this client.</summary>
    private sealed class ActiveRound(uint round, uint steps) : IDisposable
    {
        public readonly uint Round = round, Steps = steps;
        public uint Step;
        public Phase Phase;
        public int Attempt;
        /// <summary>The step core: models, optimizers, noise and codecs of this client's half.</summary>
        public ClientHalf Half = null!;
        /// <summary>The server's split-2 tables of this round, and split-2 features that arrived before theirs.</summary>
        public readonly FeatureTablesInbox<SplitFeatures> ServerTables = new();
        public Google.Protobuf.IMessage? LastSent;
        /// <summary>This step's transfer [1], resent when the server lost the step; the step's distortion, taken back then.</summary>
        public SplitFeatures? Features1;
        public double StepMse, StepLoss;
        public int Redone;
        public long Samples;
        public double SumLoss, SumMse, SumBpp1;
        /// <summary>What the entropy coders of transfers [1] and [3] wrote this round.</summary>
        public Models.Coding.CodingStats Coded1, Coded3;
        public bool HasCoded1, HasCoded3;
        /// <summary>Payloads from the server this round that did not decode, by kind.</summary>
        public readonly SortedDictionary<string, ulong> Rejected = new(StringComparer.Ordinal);

        public void Dispose() => Half?.Dispose();
    }

    public ClientActor(SimulationContext ctx, ClientSpec spec)
    {
        this.ctx = ctx;
        this.spec = spec;
        // Its personal parameters as last published (a resumed run's checkpoint, or this actor's own before a restart).
        personal = ctx.ClientPersonalState.GetValueOrDefault(spec.Id);
        incarnation = ctx.ClientIncarnations.GetValueOrDefault(spec.Id);
        Receive<GlobalModel>(OnGlobalModel);
        Receive<FeatureTables>(OnServerTables);
        Receive<TablesRequest>(OnTablesRequest);
        Receive<SplitFeatures>(OnFeatures2);
        Receive<SplitGradient>(OnGradient1);
        Receive<UpdateAck>(OnAck);
        Receive<StepUnknown>(OnStepUnknown);
        Receive<Retry>(OnRetry);
    }

    private string What(string transfer) => $"{transfer} of {spec.Id}, round {active?.Round}, step {active?.Step}";

    private void OnGlobalModel(GlobalModel m)
    {
        Sender?.Tell(new GlobalModelAck { Round = m.Round, Client = spec.Id }, Self);
        if (m.Round <= lastRound) return; // a duplicate, or an old round: each round is trained at most once
        lastRound = m.Round;
        Abandon();
        var o = ctx.Options;
        var steps = o.Training.LocalEpochs > 0
            ? (uint)Math.Max(1, Math.Ceiling(spec.Images.Length * o.Training.LocalEpochs / o.Data.BatchSize))
            : m.LocalSteps;
        var st = new ActiveRound(m.Round, steps);
        active = st;
        var t0 = Stopwatch.GetTimestamp();
        using (var scope = DisposeScope.Open())
        {
            var global = ParameterSet.FromMessages(m.Parameters, $"global model for {spec.Id}, round {m.Round}");
            st.Half = new ClientHalf(ctx.Plan, ctx.Step, global, personal, o.Training.ClientOptimizer, o.Training.ClientOptimizer.Lr * o.Training.LrSchedule.FactorAt(m.Round),
                ctx.Device, ctx.DeriveSeed("client-noise", m.Round, spec.Index), ctx.DeriveSeed("grad-up", m.Round, spec.Index), ctx.Profile, ctx.Teacher);
            // Tables are sent once per version: a personal model whose tables did not change sends nothing.
            if (st.Half.Tables is { } tables && tables.Version != lastTablesSent)
            {
                ctx.Server.Tell(tables.ToMessage(m.Round, spec.Id, 1), Self);
                lastTablesSent = tables.Version;
            }
        }
        ctx.Profile.Add(ProfilePart.ClientModelSync, t0);
        Context.ChargeTime(ctx.ComputeTime(0, spec.Speed, t0));
        StartStep();
    }

    private void StartStep()
    {
        var st = active!;
        var o = ctx.Options;
        var t0 = Stopwatch.GetTimestamp();
        using var scope = DisposeScope.Open();
        var rng = new Random((int)ctx.DeriveSeed("batch", st.Round, spec.Index, st.Step));
        var picks = Enumerable.Range(0, o.Data.BatchSize).Select(_ => spec.Images[rng.Next(spec.Images.Length)]).ToList();
        var x = ctx.Images.Batch(picks, o.Data.Crop, rng).to(ctx.Device);
        var lap = t0;
        ctx.Profile.Lap(ProfilePart.ClientData, ref lap);
        var head = st.Half.Head(x);
        if (head.Stats is { } cs) { st.Coded1 += cs; st.HasCoded1 = true; }
        var msg = new SplitFeatures
        {
            Round = st.Round, Client = spec.Id, Step = st.Step, Attempt = 0, Split = 1, Features = head.Features,
            RateNormalizer = (uint)(o.Data.BatchSize * o.Data.Crop * o.Data.Crop), Incarnation = incarnation,
        };
        Charge(head.Macs, t0);
        st.Features1 = msg;
        Send(msg, ctx.Server, Phase.AwaitFeatures2);
    }

    private void Send(Google.Protobuf.IMessage msg, ActorRef to, Phase phase)
    {
        var st = active!;
        st.Phase = phase;
        st.Attempt = 0;
        st.LastSent = msg;
        to.Tell(msg, Self);
        Context.Timers.StartSingleTimer("retry", new Retry(st.Round, st.Step, phase, 0), RetryAfter(msg));
    }

    /// <summary>
    /// retry-timeout counted from the end of the message's own transmission on this client's uplink: a message still
    /// being sent is not late (retransmitting it would only double the traffic on a slow link).
    /// </summary>
    private TimeSpan RetryAfter(Google.Protobuf.IMessage msg) =>
        ctx.Options.Federation.RetryTimeout + TimeSpan.FromSeconds(msg.CalculateSize() / Math.Max(1, spec.UplinkBytesPerSecond));

    private void OnRetry(Retry r)
    {
        var st = active;
        if (st is null || st.Round != r.Round || st.Step != r.Step || st.Phase != r.Phase || st.Attempt != r.Attempt) return;
        if (st.Attempt >= ctx.Options.Federation.MaxRetries)
        {
            GiveUp($"no reply in phase {st.Phase} of step {st.Step} after {st.Attempt} retransmissions");
            return;
        }
        st.Attempt++;
        switch (st.LastSent)
        {
            case SplitFeatures f: f.Attempt = (uint)st.Attempt; break;
            case SplitGradient g: g.Attempt = (uint)st.Attempt; break;
            case ClientUpdate u: u.Attempt = (uint)st.Attempt; break;
        }
        (st.Phase == Phase.AwaitAck ? ctx.Aggregator : ctx.Server).Tell(st.LastSent!, Self);
        Context.Timers.StartSingleTimer("retry", new Retry(st.Round, st.Step, st.Phase, st.Attempt), RetryAfter(st.LastSent!));
    }

    private void GiveUp(string reason)
    {
        ctx.Aggregator.Tell(new RoundAbandoned { Round = active!.Round, Client = spec.Id, Reason = reason, Incarnation = incarnation }, Self);
        Abandon(); // the round goes on without this client: no partial update is ever sent
    }

    /// <summary>
    /// The server holds no half-done step for our [3] (it restarted, or the step timed out there): take back the tail's
    /// part of the step (its gradients, its distortion) and redo the step from transfer [1], with the same features.
    /// </summary>
    private void OnStepUnknown(StepUnknown u)
    {
        var st = active;
        if (st is null || u.Round != st.Round || u.Step != st.Step || st.Phase != Phase.AwaitGradient1 || st.Features1 is null) return;
        if (++st.Redone > ctx.Options.Federation.MaxRetries)
        {
            GiveUp($"the server lost step {st.Step} {st.Redone} times");
            return;
        }
        st.Half.RetakeTail();
        st.SumMse -= st.StepMse;
        st.SumLoss -= st.StepLoss;
        Send(st.Features1, ctx.Server, Phase.AwaitFeatures2);
    }

    private void OnServerTables(FeatureTables t)
    {
        if (active is null || t.Round != active.Round || t.Split != 2) return;
        bool resume;
        SplitFeatures waiting;
        try { resume = active.ServerTables.Add(t, out waiting); }
        catch (InvalidDataException e)
        {
            Reject(RejectedPayloads.TablesDown, $"split-2 feature tables for {spec.Id}, round {t.Round}", e);
            return; // requested again when features need them
        }
        if (resume) OnFeatures2(waiting);
    }

    private void OnTablesRequest(TablesRequest r)
    {
        if (active?.Half.Tables is { } t && r.Round == active.Round && r.Version == t.Version)
            ctx.Server.Tell(t.ToMessage(active.Round, spec.Id, 1), Self);
    }

    /// <summary>Transfer [2] arrived: decode f̂2, run the tail, compute the distortion, send ∂L/∂f̂2 back ([3]).</summary>
    private void OnFeatures2(SplitFeatures m)
    {
        var st = active;
        if (st is null || m.Round != st.Round || m.Step != st.Step || m.Split != 2 || st.Phase != Phase.AwaitFeatures2) return;
        var t0 = Stopwatch.GetTimestamp();
        using var scope = DisposeScope.Open();
        if (st.ServerTables.Admit(m.Features, m, st.Round, spec.Id, 2) is { } request)
        {
            ctx.Server.Tell(request, Self); // decoded as soon as the tables arrive (or the retry of [1] brings [2] again)
            return;
        }
        TailOutput tail;
        try { tail = st.Half.Tail(m.Features, st.ServerTables.Get, What("split-2 features")); }
        catch (InvalidDataException e)
        {
            Reject(RejectedPayloads.Features2, What("split-2 features"), e);
            return; // the retry of [1] brings [2] again
        }
        st.StepMse = tail.Mse;
        st.StepLoss = tail.DistortionTerm;
        st.SumMse += st.StepMse;
        st.SumLoss += st.StepLoss;
        var msg = new SplitGradient { Round = st.Round, Client = spec.Id, Step = st.Step, Split = 2, Gradient = tail.Gradient, Incarnation = incarnation };
        if (tail.Stats is { } gs) { st.Coded3 += gs; st.HasCoded3 = true; }
        Charge(tail.Macs, t0);
        Send(msg, ctx.Server, Phase.AwaitGradient1);
    }

    /// <summary>Transfer [4] arrived: backpropagate ∂L/∂f̂1 (plus β·R1/P) through the head, step the optimizers.</summary>
    private void OnGradient1(SplitGradient m)
    {
        var st = active;
        if (st is null || m.Round != st.Round || m.Step != st.Step || m.Split != 1 || st.Phase != Phase.AwaitGradient1) return;
        var o = ctx.Options;
        var t0 = Stopwatch.GetTimestamp();
        HeadBackwardOutput end;
        try { end = st.Half.HeadBackward(m.Gradient, What("split-1 gradient")); }
        catch (InvalidDataException e)
        {
            Reject(RejectedPayloads.Gradient1, What("split-1 gradient"), e);
            return; // the retry of [3] brings [4] again (the server answers it from its cache)
        }
        if (end.BppFeatures1 is { } bpp)
        {
            st.SumBpp1 += bpp;
            st.SumLoss += end.RateTerm;
        }
        st.Samples += o.Data.BatchSize;
        Charge(end.Macs, t0);
        st.Step++;
        if (st.Step < st.Steps) StartStep();
        else Finish();
    }

    /// <summary>All local steps done: send the head/tail (never the personal parameters) to the aggregator.</summary>
    private void Finish()
    {
        var st = active!;
        var t0 = Stopwatch.GetTimestamp();
        personal = ParameterSet.FromModule(st.Half.Model.named_parameters(), ctx.Personal.Matches);
        if (personal.Count > 0) ctx.ClientPersonalState[spec.Id] = personal; // for the per-client evaluation (in process)
        var update = new ClientUpdate
        {
            Round = st.Round, Client = spec.Id, Samples = (ulong)st.Samples,
            Stats = new StepStats
            {
                Steps = st.Steps, Loss = st.SumLoss / st.Steps, Mse = st.SumMse / st.Steps, BppFeatures1 = st.SumBpp1 / st.Steps,
                Psnr = Models.Metrics.Psnr.FromMse(Math.Max(st.SumMse / st.Steps, 1e-12), max: 1), ComputeSeconds = Context.ChargedTotal.TotalSeconds,
                Features1 = st.HasCoded1 ? CodingTotalsOf.From(st.Coded1, st.Steps) : null,
                Gradient2 = st.HasCoded3 ? CodingTotalsOf.From(st.Coded3, st.Steps) : null,
            },
        };
        update.Stats.Rejected.Add(st.Rejected);
        update.Parameters.AddRange(ParameterSet.FromModule(st.Half.Model.named_parameters(), n => !ctx.Personal.Matches(n)).ToMessages());
        st.Half.Dispose();
        st.Half = null!;
        ctx.Profile.Add(ProfilePart.ClientModelSync, t0);
        Interlocked.Increment(ref ctx.Updates.Sent);
        ctx.ClientFinished?.Invoke(spec.Id, st.Round);
        Send(update, ctx.Aggregator, Phase.AwaitAck);
    }

    private void OnAck(UpdateAck a)
    {
        if (active is not null && a.Round == active.Round && active.Phase == Phase.AwaitAck) Abandon();
    }

    /// <summary>Leaves the current round (done, or given up): frees the model; an idle client holds no model copy.</summary>
    private void Abandon()
    {
        Context.Timers.Cancel("retry");
        active?.Dispose();
        active = null;
    }

    private void Charge(long macs, long t0) => Context.ChargeTime(ctx.ComputeTime(macs, spec.Speed, t0));

    /// <summary>An undecodable payload from the server: dropped, counted for this round's update, its cause logged once.</summary>
    private void Reject(string kind, string what, Exception e)
    {
        if (active is not null) RejectedPayloads.Count(active.Rejected, kind);
        ctx.Rejections.Report(kind, what, e);
    }

    protected override void PostStop() => Abandon();

    /// <summary>
    /// The client failed mid-round: the aggregator (and the server) are told now (reason <c>failed: …</c>) instead of
    /// waiting for the deadline. The restarted instance starts idle with the next incarnation; the aggregator sends it
    /// the round's global model again while the round is open (it rejoins and trains the round from its start), and the
    /// server, seeing the higher incarnation on its [1], forgets what the failed instance left half done.
    /// </summary>
    protected override void PreRestart(Exception reason, object? message)
    {
        ctx.ClientIncarnations[spec.Id] = incarnation + 1;
        if (active is { } st)
        {
            var gone = new RoundAbandoned { Round = st.Round, Client = spec.Id, Reason = $"{RoundAbandonedFailed}{reason.Message}", Incarnation = incarnation };
            ctx.Aggregator.Tell(gone, Self);
            ctx.Server.Tell(gone, Self); // it may be holding the body (SFLv2) for our half-done step: the others need not wait
        }
        base.PreRestart(reason, message);
    }

    /// <summary>How the reason of a <see cref="RoundAbandoned"/> starts when the client failed (else it gave up after its retransmissions).</summary>
    public const string RoundAbandonedFailed = "failed: ";
}
