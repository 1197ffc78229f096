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
/// The split server: runs the body of the codec (rest of g_a, hyperprior, entropy models of y and z, most of g_s) and
/// the split-2 feature entropy model. Never sees raw images, reconstructions or the distortion. SFLv2: one body,
/// clients served one at a time; SFLv1: a body copy per client of the round, averaged (sample-weighted) at round end.
/// </summary>
public sealed class SplitServerActor : ReceiveActor
{
    private readonly SimulationContext ctx;
    private readonly bool sflv1;
    private readonly ServerModel global;
    private readonly Adam globalOptimizer, globalAux;
    private Generator noise;
    // FedLC: body parameters kept per client (null when federation.server-personal is empty).
    private readonly ServerPersonalization? personal;
    private readonly Dictionary<string, ServerHalf> copies = new(StringComparer.Ordinal);
    // Per client: its split-1 tables by version (kept over rounds: a client sends a version once), and its [1] waiting for them.
    private readonly Dictionary<string, FeatureTablesInbox<(SplitFeatures Msg, ActorRef From)>> clientTables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> pending = new(StringComparer.Ordinal);
    // Per client: the last answer, and the attempt of the request it answers (a duplicate of that request is not answered again).
    private readonly Dictionary<string, (uint Round, uint Step, uint Split, Google.Protobuf.IMessage Reply, uint Attempt)> lastReply = new(StringComparer.Ordinal);
    private readonly Queue<(SplitFeatures Msg, ActorRef From)> waiting = new();
    // Per client: the newest incarnation seen this round (a client that restarts after a crash counts one up).
    private readonly Dictionary<string, uint> incarnations = new(StringComparer.Ordinal);
    private readonly GradientCodec gradientDownlink;
    private RoundPlan? plan;
    private FrozenFeatureTables? tables;
    // Per-client sums, added up in client order when reported: the round's statistics never depend on the order
    // in which clients were served (real clock, cluster).
    private readonly SortedDictionary<string, (double BppImage, double BppFeatures2, double Aux, long Steps)> stats = new(StringComparer.Ordinal);
    private uint statsRound;
    // Payloads from clients this round that did not decode, by kind (reported in ServerStats).
    private readonly SortedDictionary<string, ulong> rejected = new(StringComparer.Ordinal);
    // What the entropy coders of transfers [2] and [4] wrote, per client (summed in client order, like stats).
    private readonly SortedDictionary<string, (Models.Coding.CodingStats F2, Models.Coding.CodingStats G1, long N2, long N4)> coded = new(StringComparer.Ordinal);

    /// <summary>The server half of one client's step, kept between transfers [2] and [3].</summary>
    private sealed class Pending(string client, uint round, uint step, ServerHalf body, ServerStep work) : IDisposable
    {
        public readonly string Client = client;
        public readonly uint Round = round, Step = step;
        public readonly ServerHalf Body = body;
        public readonly ServerStep Work = work;
        public void Dispose() => Work.Dispose();
    }

    private sealed record PendingTimeout(string Client, uint Round, uint Step);

    private Dictionary<string, ClientSpec>? specs;

    /// <summary>
    /// How long the server keeps a client's half-done step: every retransmission the client may make (retry-timeout each),
    /// plus the time its own link needs for the reply [2] and for each attempt of its gradient [3] (float32 at most),
    /// so a slow link is never mistaken for a departed client.
    /// </summary>
    private TimeSpan PendingFor(string client, Google.Protobuf.IMessage reply, long gradientValues)
    {
        var f = ctx.Options.Federation;
        var wait = f.RetryTimeout * (f.MaxRetries + 2);
        specs ??= ctx.Clients.ToDictionary(c => c.Id, StringComparer.Ordinal);
        if (!specs.TryGetValue(client, out var spec)) return wait;
        var down = reply.CalculateSize() / Math.Max(1, spec.DownlinkBytesPerSecond);
        var up = gradientValues * 4.0 / Math.Max(1, spec.UplinkBytesPerSecond);
        return wait + TimeSpan.FromSeconds(down + (f.MaxRetries + 1) * up);
    }

    public SplitServerActor(SimulationContext ctx)
    {
        this.ctx = ctx;
        var o = ctx.Options;
        sflv1 = o.Training.Mode switch
        {
            "sflv1" => true,
            "sflv2" => false,
            _ => throw new ArgumentException($"cofusfl.training.mode: unknown '{o.Training.Mode}' (sflv1, sflv2)"),
        };
        noise = new Generator(ctx.DeriveSeed("server-noise"), ctx.Device);
        using (var g = new Generator(ctx.DeriveSeed("init")))
            global = new ServerModel(ctx.Plan, ctx.EntropyDownlink, o.Split.Features.GainInit, g);
        ctx.ServerCheckpoint?.CopyInto(global.named_parameters());
        global.to(ctx.Device);
        Configure(global, noise);
        if (o.Federation.ServerPersonal.Count > 0)
        {
            // The global body holds the shared values of these parameters (never trained: no client trains them shared).
            personal = new ServerPersonalization(ctx.ServerPersonal, ParameterSet.FromModule(global.named_parameters(), ctx.ServerPersonal.Matches));
            if (ctx.ServerPersonalCheckpoint is { } state) personal.Load(state);
        }
        globalOptimizer = MainOptimizer(global);
        globalAux = AuxOptimizer(global);
        if (ctx.ServerOptimizerCheckpoint is { } saved) LoadOptimizers(saved);
        gradientDownlink = GradientCodec.Create(o.Split.Gradients.Downlink, o.Split.Gradients.TopkRatio, new Random((int)ctx.DeriveSeed("grad-down")), o.Split.Gradients.Step);
        gradientDownlink.Profile = ctx.Profile;
        Receive<RoundPlan>(OnRoundPlan);
        Receive<FeatureTables>(OnClientTables);
        Receive<TablesRequest>(OnTablesRequest);
        Receive<SplitFeatures>(m => OnFeatures1(m, Sender!));
        Receive<SplitGradient>(m => OnGradient2(m, Sender!));
        Receive<RoundEnd>(OnRoundEnd);
        Receive<StateRequest>(OnStateRequest);
        Receive<PendingTimeout>(OnPendingTimeout);
        Receive<RoundAbandoned>(OnClientFailed);
    }

    private bool Shared(string name) => personal is null || !personal.Matches(name);

    private Adam MainOptimizer(ServerModel m)
    {
        var so = ctx.Options.Training.ServerOptimizer;
        return new Adam(m.main_parameters(Shared), ServerLr(plan?.Round ?? 1), so.Beta1, so.Beta2, weightDecay: so.WeightDecay);
    }

    private Adam AuxOptimizer(ServerModel m) => new(m.aux_parameters(Shared), ctx.Options.Training.AuxLr);

    /// <summary>Swaps <paramref name="client"/>'s own parameters into <paramref name="body"/> (FedLC), releasing another client's first.</summary>
    private void BindPersonal(ServerHalf body, string client)
    {
        if (personal is null || body.Personal?.Client == client) return;
        ReleasePersonal(body);
        body.Personal = personal.Bind(client, body.Model, ServerLr(plan!.Round), ctx.Options.Training.ServerOptimizer, ctx.Options.Training.AuxLr);
    }

    private void ReleasePersonal(ServerHalf body)
    {
        if (personal is null || body.Personal is null) return;
        personal.Release(body.Personal, restoreShared: ReferenceEquals(body.Model, global));
        body.Personal = null;
    }

    private double ServerLr(uint round) => ctx.Options.Training.ServerOptimizer.Lr * ctx.Options.Training.LrSchedule.FactorAt(round);

    private void Configure(ServerModel m, Generator g)
    {
        var q = ctx.Options.Training.Quantization == "ste" ? TrainingQuantization.Ste : TrainingQuantization.Noise;
        m.Codec.NoiseGenerator = g;
        m.Codec.TrainingQuantization = q;
        if (m.Feature2?.entropy_bottleneck is { } eb)
        {
            eb.NoiseGenerator = g;
            eb.TrainingQuantization = q;
        }
    }

    private FeatureCodec Downlink(ServerModel m, Generator noiseOf)
    {
        var codec = FeatureCodec.Create(ctx.Options.Split.Features.Downlink, m.Feature2);
        codec.Profile = ctx.Profile;
        if (codec is EntropyFeatures ef) ef.Tables = tables;
        if (codec is AdaptiveFeatures af)
        {
            af.Noise = noiseOf;
            af.NoiseQuantization = ctx.Options.Training.Quantization != "ste";
        }
        return codec;
    }

    private void OnRoundPlan(RoundPlan p)
    {
        if (plan is not null && p.Round <= plan.Round) return;
        EndRound();
        plan = p;
        // The global body's noise stream restarts from (seed, round) every round, so a resumed run draws what an
        // uninterrupted one would.
        if (!sflv1)
        {
            noise.Dispose();
            noise = new Generator(ctx.DeriveSeed("server-noise", p.Round), ctx.Device);
            Configure(global, noise);
        }
        globalOptimizer.LearningRate = ServerLr(p.Round);
        stats.Clear();
        coded.Clear();
        rejected.Clear();
        statsRound = p.Round;
        if (global.Feature2 is { Density: FeatureDensity.Learned })
        {
            using var scope = DisposeScope.Open();
            tables = global.Feature2.Freeze();
            foreach (var c in p.Clients) ctx.ClientRefs[c].Tell(tables.ToMessage(p.Round, c, 2), Self);
        }
    }

    private void OnClientTables(FeatureTables t)
    {
        if (t.Split != 1) return;
        bool resume;
        (SplitFeatures Msg, ActorRef From) w;
        try { resume = TablesOf(t.Client).Add(t, out w); }
        catch (InvalidDataException e)
        {
            Reject(RejectedPayloads.TablesUp, $"split-1 feature tables of {t.Client}, round {t.Round}", e);
            return; // re-requested when features need it
        }
        if (resume) OnFeatures1(w.Msg, w.From);
    }

    private void OnTablesRequest(TablesRequest r)
    {
        if (tables is not null && plan is not null && r.Version == tables.Version && ctx.ClientRefs.TryGetValue(r.Client, out var c))
            c.Tell(tables.ToMessage(plan.Round, r.Client, 2), Self);
    }

    private FeatureTablesInbox<(SplitFeatures Msg, ActorRef From)> TablesOf(string client)
    {
        if (!clientTables.TryGetValue(client, out var inbox)) clientTables[client] = inbox = new();
        return inbox;
    }

    private bool InRound(uint round, string client) => plan is not null && round == plan.Round && endedRound != round && plan.Clients.Contains(client);

    /// <summary>Transfer [1]: decode f̂1, run the body, send the split-2 features ([2]).</summary>
    private void OnFeatures1(SplitFeatures m, ActorRef from)
    {
        if (m.Split != 1 || !InRound(m.Round, m.Client) || !Current(m.Client, m.Incarnation)) return;
        if (lastReply.TryGetValue(m.Client, out var last) && last.Round == m.Round && last.Step >= m.Step)
        {
            // A retransmitted [1]: same answer, no recomputation. A duplicate of the attempt answered, or one of an
            // earlier step (late), is not answered.
            if (last.Step == m.Step && last.Split == 2 && last.Attempt != m.Attempt)
            {
                lastReply[m.Client] = last with { Attempt = m.Attempt };
                from.Tell(last.Reply, Self);
            }
            return;
        }
        if (!sflv1 && pending.Count > 0 && !pending.ContainsKey(m.Client))
        {
            if (!waiting.Any(w => w.Msg.Client == m.Client)) waiting.Enqueue((m, from));
            return;
        }
        Serve(m, from);
    }

    private void Serve(SplitFeatures m, ActorRef from)
    {
        var o = ctx.Options;
        var t0 = Stopwatch.GetTimestamp();
        var tablesOf = TablesOf(m.Client);
        if (tablesOf.Admit(m.Features, (m, from), m.Round, m.Client, 1) is { } request)
        {
            from.Tell(request, Self);
            ServeNext();
            return; // the client's retry of [1] comes back once the tables are here
        }
        var body = BodyFor(m.Client);
        BindPersonal(body, m.Client);
        BodyOutput output;
        try
        {
            output = body.Body(m.Features, tablesOf.Get, m.RateNormalizer, ctx.Device, $"split-1 features of {m.Client}, round {m.Round}, step {m.Step}");
        }
        catch (InvalidDataException e)
        {
            Reject(RejectedPayloads.Features1, $"split-1 features of {m.Client}, round {m.Round}, step {m.Step}", e);
            ServeNext();
            return; // the client retransmits
        }
        if (output.Stats is { } cs2)
        {
            var c = coded.GetValueOrDefault(m.Client);
            coded[m.Client] = c with { F2 = c.F2 + cs2, N2 = c.N2 + 1 };
        }
        var sum = stats.GetValueOrDefault(m.Client);
        stats[m.Client] = (sum.BppImage + output.BppImage, sum.BppFeatures2 + output.BppFeatures2, sum.Aux, sum.Steps + 1);
        var p = new Pending(m.Client, m.Round, m.Step, body, output.Step);
        if (pending.Remove(m.Client, out var old)) old.Dispose();
        pending[m.Client] = p;
        var reply = new SplitFeatures { Round = m.Round, Client = m.Client, Step = m.Step, Split = 2, Features = output.Features, RateNormalizer = m.RateNormalizer };
        lastReply[m.Client] = (m.Round, m.Step, 2, reply, m.Attempt);
        Charge(output.Macs, t0);
        from.Tell(reply, Self);
        Context.Timers.StartSingleTimer(("pending", m.Client), new PendingTimeout(m.Client, m.Round, m.Step), PendingFor(m.Client, reply, output.Elements));
    }

    /// <summary>Transfer [3]: backpropagate ∂L/∂f̂2 and the server's rate terms, step, send ∂L/∂f̂1 ([4]).</summary>
    private void OnGradient2(SplitGradient m, ActorRef from)
    {
        if (m.Split != 2 || !InRound(m.Round, m.Client) || !Current(m.Client, m.Incarnation)) return;
        if (!pending.TryGetValue(m.Client, out var p) || p.Step != m.Step)
        {
            var known = lastReply.TryGetValue(m.Client, out var last) && last.Round == m.Round;
            if (known && last.Step > m.Step) return; // stale: a late duplicate of an earlier step
            if (known && last.Step == m.Step)
            {
                if (last.Split == 1)
                {
                    if (last.Attempt == m.Attempt) return; // a duplicate of the [3] answered
                    lastReply[m.Client] = last with { Attempt = m.Attempt };
                    from.Tell(last.Reply, Self); // a retransmitted [3]
                    return;
                }
                lastReply.Remove(m.Client); // the step timed out here: its [1] must be served afresh, not answered from the cache
            }
            // No saved step (this server restarted, or the step timed out): without an answer the client would only
            // retransmit [3] until it gives up. It redoes the step from [1].
            from.Tell(new StepUnknown { Round = m.Round, Client = m.Client, Step = m.Step }, Self);
            return;
        }
        var t0 = Stopwatch.GetTimestamp();
        var own = p.Body.Personal;
        if (personal is not null && own?.Client != m.Client)
            throw new InvalidOperationException($"the body holds the per-client parameters of {own?.Client ?? "no client"}, not of {m.Client}");
        BodyBackwardOutput output;
        try { output = p.Body.BodyBackward(p.Work, m.Gradient, $"split-2 gradient of {m.Client}, round {m.Round}, step {m.Step}"); }
        catch (InvalidDataException e)
        {
            Reject(RejectedPayloads.Gradient2, $"split-2 gradient of {m.Client}, round {m.Round}, step {m.Step}", e);
            return; // the client retransmits [3]
        }
        var auxSum = stats.GetValueOrDefault(m.Client);
        stats[m.Client] = auxSum with { Aux = auxSum.Aux + output.AuxLoss };
        Google.Protobuf.IMessage reply = new SplitGradient { Round = m.Round, Client = m.Client, Step = m.Step, Split = 1, Gradient = output.Gradient };
        if (output.Stats is { } gs)
        {
            var c = coded.GetValueOrDefault(m.Client);
            coded[m.Client] = c with { G1 = c.G1 + gs, N4 = c.N4 + 1 };
        }
        Charge(output.Macs, t0);
        lastReply[m.Client] = (m.Round, m.Step, 1, reply, m.Attempt);
        pending.Remove(m.Client);
        p.Dispose();
        Context.Timers.Cancel(("pending", m.Client));
        from.Tell(reply, Self);
        ServeNext();
    }

    private void OnPendingTimeout(PendingTimeout t)
    {
        if (pending.TryGetValue(t.Client, out var p) && p.Round == t.Round && p.Step == t.Step)
        {
            pending.Remove(t.Client);
            p.Dispose();
            ServeNext(); // the client vanished (or said it failed): serve the others
        }
    }

    /// <summary>
    /// False for a transfer of an earlier incarnation of its client (left in flight by an instance that crashed). The
    /// first transfer of a newer one means the client restarted and rejoined the round from its start: what the failed
    /// instance left here (its half-done step, its queued [1], its SFLv1 body copy, the answers cached for it) is
    /// forgotten, as if its RoundAbandoned had arrived, which a lossy link may not have delivered.
    /// </summary>
    private bool Current(string client, uint incarnation)
    {
        var known = incarnations.GetValueOrDefault(client);
        if (incarnation < known) return false;
        if (incarnation > known)
        {
            incarnations[client] = incarnation;
            Forget(client);
        }
        return true;
    }

    private void Forget(string client)
    {
        var others = waiting.Where(w => w.Msg.Client != client).ToList();
        waiting.Clear();
        foreach (var w in others) waiting.Enqueue(w);
        if (clientTables.TryGetValue(client, out var tablesOfFailed)) tablesOfFailed.DropWaiting();
        if (pending.Remove(client, out var p))
        {
            p.Dispose();
            Context.Timers.Cancel(("pending", client));
        }
        lastReply.Remove(client);
        if (copies.Remove(client, out var copy))
        {
            // SFLv1: the rejoined client starts again from the global head, so its body starts again from the global body.
            ReleasePersonal(copy);
            copy.Dispose();
        }
    }

    /// <summary>A client failed mid-round (it says so): its half-done step and its queued [1] are dropped, the others served.</summary>
    private void OnClientFailed(RoundAbandoned a)
    {
        if (!InRound(a.Round, a.Client) || a.Incarnation < incarnations.GetValueOrDefault(a.Client)) return;
        Forget(a.Client);
        ServeNext();
    }

    private void ServeNext()
    {
        if (sflv1 || pending.Count > 0) return;
        while (waiting.Count > 0)
        {
            var (msg, from) = waiting.Dequeue();
            if (!InRound(msg.Round, msg.Client)) continue;
            Serve(msg, from);
            return;
        }
    }

    private ServerHalf BodyFor(string client)
    {
        if (!sflv1) return globalBody ??= new ServerHalf(ctx.Plan, ctx.Step, global, globalOptimizer, globalAux, Downlink(global, noise), gradientDownlink, null, ctx.Profile);
        if (copies.TryGetValue(client, out var b)) return b;
        ServerModel copy;
        using (var scope = DisposeScope.Open())
        {
            copy = new ServerModel(ctx.Plan, ctx.EntropyDownlink, ctx.Options.Split.Features.GainInit, null);
            ParameterSet.FromModule(global.named_parameters()).CopyInto(copy.named_parameters());
        }
        var index = ctx.Clients.First(c => c.Id == client).Index;
        copy.to(ctx.Device);
        var noiseCopy = new Generator(ctx.DeriveSeed("server-noise", plan!.Round, index), ctx.Device);
        Configure(copy, noiseCopy);
        var o = ctx.Options;
        var grads = GradientCodec.Create(o.Split.Gradients.Downlink, o.Split.Gradients.TopkRatio, new Random((int)ctx.DeriveSeed("grad-down", plan.Round, index)), o.Split.Gradients.Step);
        grads.Profile = ctx.Profile;
        b = new ServerHalf(ctx.Plan, ctx.Step, copy, MainOptimizer(copy), AuxOptimizer(copy), Downlink(copy, noiseCopy), grads, noiseCopy, ctx.Profile);
        copies[client] = b;
        return b;
    }

    private ServerHalf? globalBody;

    /// <summary>Round end (from the aggregator): SFLv1 averages the body copies of the clients whose updates were kept.</summary>
    private uint endedRound;

    private void OnRoundEnd(RoundEnd e)
    {
        if (plan is null || e.Round != plan.Round || endedRound == e.Round) return;
        endedRound = e.Round;
        if (sflv1)
        {
            var updates = new List<WeightedUpdate>();
            for (var i = 0; i < e.Clients.Count; i++)
                if (copies.TryGetValue(e.Clients[i], out var b))
                    updates.Add(new WeightedUpdate(e.Clients[i], ParameterSet.FromModule(b.Model.named_parameters(), Shared), (long)e.Samples[i]));
            if (updates.Count > 0) FederatedStrategy.Create(ctx.Options.Federation.Strategy).AggregateBodies(e.Round, updates).CopyInto(global.named_parameters());
        }
        EndRound();
        ctx.ServerCheckpoint = ParameterSet.FromModule(global.named_parameters());
        ctx.ServerOptimizerCheckpoint = OptimizerState();
        ctx.ServerPersonalCheckpoint = personal?.State();
    }

    private void EndRound()
    {
        // Every client's own parameters go back to its slot (the global body gets the shared values back).
        if (globalBody is not null) ReleasePersonal(globalBody);
        foreach (var b in copies.Values) ReleasePersonal(b);
        foreach (var b in copies.Values) b.Dispose();
        copies.Clear();
        foreach (var p in pending.Values) p.Dispose();
        pending.Clear();
        waiting.Clear();
        foreach (var inbox in clientTables.Values) inbox.DropWaiting();
        lastReply.Clear();
        incarnations.Clear();
        globalBody = null;
    }

    private void OnStateRequest(StateRequest r)
    {
        if (plan is not null && r.Round == plan.Round && endedRound != r.Round)
        {
            // The aggregator's RoundEnd was lost: the coordinator's request carries the same outcome.
            var e = new RoundEnd { Round = r.Round };
            e.Clients.AddRange(r.Clients);
            e.Samples.AddRange(r.Samples);
            OnRoundEnd(e);
        }
        var s = new ServerStats { Round = statsRound };
        double bppImage = 0, bppFeatures2 = 0, auxLoss = 0;
        long steps = 0;
        foreach (var (_, v) in stats)
        {
            bppImage += v.BppImage;
            bppFeatures2 += v.BppFeatures2;
            auxLoss += v.Aux;
            steps += v.Steps;
        }
        if (steps > 0)
        {
            s.BppImage = bppImage / steps;
            s.BppFeatures2 = bppFeatures2 / steps;
            s.AuxLoss = auxLoss / steps;
        }
        s.Steps = (uint)steps;
        s.Rejected.Add(rejected);
        if (coded.Count > 0)
        {
            Models.Coding.CodingStats f2 = default, g1 = default;
            long n2 = 0, n4 = 0;
            foreach (var (_, v) in coded) { f2 += v.F2; g1 += v.G1; n2 += v.N2; n4 += v.N4; }
            if (n2 > 0) s.Features2 = CodingTotalsOf.From(f2, n2);
            if (n4 > 0) s.Gradient1 = CodingTotalsOf.From(g1, n4);
        }
        var state = new ModelState { Round = r.Round, ServerStats = s };
        state.Parameters.AddRange(ParameterSet.FromModule(global.named_parameters()).ToMessages());
        if (r.OptimizerState) state.Optimizer.AddRange(OptimizerState().ToMessages());
        // To the coordinator only (checkpoints, per-client evaluation), never to the aggregator.
        if (r.PersonalState && personal is not null) state.ServerPersonal.AddRange(personal.State().ToMessages());
        Sender!.Tell(state, Self);
    }

    /// <summary>The global optimizers' state (<c>main.…</c>, <c>aux.…</c>).</summary>
    private ParameterSet OptimizerState() =>
        OptimizerStates.Save(globalAux, "aux.", OptimizerStates.Save(globalOptimizer, "main.", new ParameterSet()));

    private void LoadOptimizers(ParameterSet saved)
    {
        OptimizerStates.Load(globalOptimizer, saved, "main.");
        OptimizerStates.Load(globalAux, saved, "aux.");
    }

    /// <summary>An undecodable payload from a client: dropped, counted for this round's statistics, its cause logged once.</summary>
    private void Reject(string kind, string what, Exception e)
    {
        RejectedPayloads.Count(rejected, kind);
        ctx.Rejections.Report(kind, what, e);
    }

    private void Charge(long macs, long t0) => Context.ChargeTime(ctx.ComputeTime(macs, ctx.Options.Runtime.ServerSpeed, t0));

    /// <summary>After a restart, pick up the round in progress (its clients retransmit what was lost).</summary>
    protected override void PreStart()
    {
        if (ctx.CurrentPlan is { } p) OnRoundPlan(p);
    }

    protected override void PostStop()
    {
        EndRound();
        global.Dispose();
        globalOptimizer.Dispose();
        globalAux.Dispose();
        noise.Dispose();
    }
}
