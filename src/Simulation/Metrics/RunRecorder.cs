using CoFUsfl.Simulation.Protocol;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoFUsfl.Actors;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Evaluation;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>
/// Writes a run folder as rounds complete: <c>metrics.jsonl</c> (one object per round), Kodak evaluations through real
/// bitstreams, safetensors checkpoints, and at the end <c>summary.json</c> and SVG plots.
/// </summary>
public sealed class RunRecorder : IRoundObserver
{
    private readonly SimulationContext ctx;
    private readonly string dir;
    private readonly CodecEvaluator? evaluator;
    private readonly Action<string>? progress;
    private readonly RunHooks hooks;
    private readonly List<JsonObject> rounds = [];
    private readonly long wallStart = System.Diagnostics.Stopwatch.GetTimestamp();
    private RoundRecord? last;
    private TensorBoardWriter? tensorboard;
    /// <summary>Kodak reconstructions written to the TensorBoard file at each evaluation.</summary>
    public const int TensorBoardImages = 2;
    private EvalSummary? lastEval;
    private JsonObject? lastPerClient;
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public uint FirstRound { get; }
    public IReadOnlyList<JsonObject> Rounds => rounds;

    /// <summary>
    /// Roles whose actors run on other nodes (cluster mode: "client"). Their send counters live in other processes, so
    /// their traffic is counted here as it is delivered to this node's actors (the same envelope bytes; a message lost
    /// on the way is not counted). Empty in process.
    /// </summary>
    public IReadOnlySet<string> RemoteSenderRoles { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Actor failures of this process, reported in the summary (<c>actor_failures</c>).</summary>
    public ActorFailures? Failures { get; init; }

    private TrafficLedger? ledger;
    private TrafficLedger Ledger => ledger ??= new TrafficLedger(RemoteSenderRoles);

    public RunRecorder(SimulationContext ctx, string runDirectory, CodecEvaluator? evaluator, uint firstRound = 1, RunHooks? hooks = null)
    {
        this.hooks = hooks ?? new RunHooks();
        progress = this.hooks.Log;
        this.ctx = ctx;
        dir = runDirectory;
        this.evaluator = evaluator;
        FirstRound = firstRound;
        Directory.CreateDirectory(dir);
        if (firstRound == 1)
        {
            File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "");
            foreach (var old in Directory.EnumerateFiles(dir, "events.out.tfevents.*")) File.Delete(old); // a fresh run: no curves of an earlier one
        }
        else LoadEarlierSession(firstRound);
        tensorboard = new TensorBoardWriter(dir);
    }

    public void RoundStarted(uint round, int clients)
    {
        progress?.Invoke($"round {round}/{ctx.Options.Run.Rounds}: {clients} clients sampled");
        hooks.RoundStarted?.Invoke(round, clients);
    }

    private bool warnedDivergence;

    public bool RoundCompleted(RoundRecord r, ActorSystem system)
    {
        last = r;
        var o = ctx.Options;
        var stats = r.Result.ClientStats;
        double Mean(Func<Protocol.StepStats, double> f) => stats.Count == 0 ? double.NaN : stats.Average(f);
        var line = new JsonObject
        {
            ["round"] = r.Round,
            ["simulated_time_s"] = earlierSimulatedSeconds + r.SimulatedTime.TotalSeconds,
            ["round_simulated_s"] = r.SimulatedRoundTime.TotalSeconds,
            ["round_wall_s"] = r.WallRoundTime.TotalSeconds,
            ["client_lr"] = o.Training.ClientOptimizer.Lr * o.Training.LrSchedule.FactorAt(r.Round),
            ["server_lr"] = o.Training.ServerOptimizer.Lr * o.Training.LrSchedule.FactorAt(r.Round),
            ["session"] = session,
            ["updates"] = UpdatesSinceLastRound(),
            ["clients_completed"] = r.Result.Completed.Count,
            ["clients_dropped"] = r.Result.Dropped.Count,
            ["clients_rejoined"] = (int)r.Result.Rejoined,
            ["dropped_reasons"] = new JsonObject(r.Result.DroppedReasons.Values.GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            ["samples"] = (long)r.Result.Samples,
            ["train"] = new JsonObject
            {
                ["mse"] = Num(Mean(s => s.Mse)),
                ["psnr"] = Num(Mean(s => s.Psnr)),
                ["distortion_term"] = Num(Models.Losses.RateDistortion.DistortionTerm(Mean(s => s.Mse), o.Loss.Lambda)),
                ["bpp_image_est"] = r.Server.BppImage,
                ["bpp_features1_est"] = Num(Mean(s => s.BppFeatures1)),
                ["bpp_features2_est"] = r.Server.BppFeatures2,
                ["loss"] = Num(Models.Losses.RateDistortion.Loss(Mean(s => s.Mse), o.Loss.Lambda, r.Server.BppImage, o.Loss.Beta, Mean(s => s.BppFeatures1) + r.Server.BppFeatures2)),
                ["aux_loss"] = r.Server.AuxLoss,
            },
        };
        var coding = new JsonObject();
        void Coded(string transfer, Protocol.CodingTotals? t)
        {
            if (t is not null && t.Symbols > 0) coding[transfer] = CodingJson(t);
        }
        Coded(Protocol.Transfer.Features1Up.MetricName(), stats.Select(s => s.Features1).Where(t => t is not null).Aggregate((Protocol.CodingTotals?)null, (a, b) => Protocol.CodingTotalsOf.Add(a, b!)));
        Coded(Protocol.Transfer.Features2Down.MetricName(), r.Server.Features2);
        Coded(Protocol.Transfer.Gradient2Up.MetricName(), stats.Select(s => s.Gradient2).Where(t => t is not null).Aggregate((Protocol.CodingTotals?)null, (a, b) => Protocol.CodingTotalsOf.Add(a, b!)));
        Coded(Protocol.Transfer.Gradient1Down.MetricName(), r.Server.Gradient1);
        if (coding.Count > 0) line["coding"] = coding;
        // Undecodable payloads dropped by either side this round (each client's in its update, the server's in its stats).
        var rejectedByKind = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var counts in stats.Select(x => (IEnumerable<KeyValuePair<string, ulong>>)x.Rejected).Append(r.Server.Rejected))
            foreach (var (kind, n) in counts) rejectedByKind[kind] = rejectedByKind.GetValueOrDefault(kind) + n;
        line["rejected_by_kind"] = new JsonObject(rejectedByKind.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        var (bytes, messages, total, transfers) = Ledger.Since(system);
        line["bytes"] = bytes;
        line["messages"] = messages;
        line["bytes_round"] = total;
        line["bytes_transfers_round"] = transfers;
        line["faults"] = Ledger.FaultsSince(system);
        var mse = Mean(s => s.Mse);
        if (stats.Count > 0 && !warnedDivergence && !(mse <= 1))
        {
            // Images are in [0, 1]: a mean squared error above 1 means reconstructions far out of range, i.e. divergence.
            warnedDivergence = true;
            (hooks.Warn ?? Console.Error.WriteLine)(
                $"warning: round {r.Round}: training diverges (mean train MSE {mse:G3}, above 1 for images in [0, 1]); " +
                $"lower cofusfl.training.client-optimizer.lr ({o.Training.ClientOptimizer.Lr:G3}) and server-optimizer.lr ({o.Training.ServerOptimizer.Lr:G3})");
        }
        // A model with NaN or infinite parameters cannot recover: every later round would only drop its clients.
        // Stop with a clear error; the rounds so far stay in metrics.jsonl and the last good checkpoint is kept.
        var bad = r.ServerParameters.FirstNonFinite() ?? r.ClientParameters.FirstNonFinite();
        if (bad is not null) Diverged(r, line, $"the global model has non-finite parameters (first: {bad})");
        if (r.Result.Completed.Count == 0 && Failures?.FirstArithmetic is { } cause)
            Diverged(r, line, $"no client completed the round, and actors failed on non-finite values ({cause})");
        var evalDue = RunSchedule.EvaluationDue(o, r.Round);
        if (evalDue && evaluator is not null)
        {
            progress?.Invoke($"round {r.Round}: evaluating on {o.Evaluation.Dataset}");
            var evalStart = System.Diagnostics.Stopwatch.GetTimestamp();
            using var model = AssembleCodec(r.ServerParameters, r.ClientParameters);
            var images = new List<(ImageResult, Models.Imaging.Image)>();
            try { lastEval = evaluator.Evaluate(model, o.Evaluation.Limit, (res, img) => images.Add((res, img)), TensorBoardImages); }
            catch (ArithmeticException e) { Diverged(r, line, $"evaluating the global model on {o.Evaluation.Dataset} failed: {e.Message}"); }
            line["eval"] = lastEval.ToJson(includeImages: false);
            foreach (var (res, img) in images)
                tensorboard?.Image(r.Round, $"eval/{Path.GetFileNameWithoutExtension(res.Name)}", img.Width, img.Height, Models.Imaging.PngEncoder.Encode(img));
            ctx.Profile.Add(ProfilePart.Evaluation, evalStart);
        }
        if (evalDue && o.Evaluation.PerClient)
        {
            progress?.Invoke($"round {r.Round}: evaluating every client's codec on held-out images of its domains");
            try { lastPerClient = new PerClientEvaluation(ctx).Evaluate(r, AssembleCodec); }
            catch (ArithmeticException e) { Diverged(r, line, $"evaluating the clients' codecs on their held-out images failed: {e.Message}"); }
            line["eval_per_client"] = lastPerClient.DeepClone();
        }
        // The round's line is written before the checkpoint that claims it: a process killed in between resumes from
        // the checkpoint before, and that round is run (and recorded) again, never missing.
        var ioStart = System.Diagnostics.Stopwatch.GetTimestamp();
        line["wall_time_s"] = System.Diagnostics.Stopwatch.GetElapsedTime(wallStart).TotalSeconds;
        rounds.Add(line);
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), line.ToJsonString() + "\n");
        tensorboard?.Scalars(r.Round, TensorBoardScalars(line));
        ctx.Profile.Lap(ProfilePart.MetricsIo, ref ioStart);
        if (RunSchedule.CheckpointDue(o, r.Round))
        {
            RunCheckpoints.Save(ctx, dir, r);
            ctx.Profile.Add(ProfilePart.Checkpoints, ioStart);
        }
        var evalText = lastEval is not null && line["eval"] is not null ? $", eval {lastEval.Psnr:F2} dB @ {lastEval.Bpp:F3} bpp" : "";
        progress?.Invoke($"round {r.Round}: loss {line["train"]!["loss"]?.GetValue<double>():F2}, train PSNR {line["train"]!["psnr"]?.GetValue<double>():F2} dB{evalText}, {total / 1e6:F2} MB sent ({r.Result.Completed.Count} clients completed, {r.Result.Dropped.Count} dropped)");
        hooks.RoundCompleted?.Invoke(r.Round, line);
        return r.Round < o.Run.Rounds;
    }

    public void Finished()
    {
        tensorboard?.Dispose();
        tensorboard = null;
        Done.TrySetResult();
    }

    /// <summary>
    /// The scalars of a metrics line for TensorBoard, tagged by their path: train/*, eval/*, bytes/* (per transfer and
    /// kind, this round), coding/*/bits_per_symbol_*, time/*.
    /// </summary>
    public static IEnumerable<(string Tag, double Value)> TensorBoardScalars(JsonObject line)
    {
        foreach (var (k, v) in line["train"]!.AsObject())
            if (v is JsonValue jv && jv.TryGetValue<double>(out var d)) yield return ($"train/{k}", d);
        if (line["eval"] is JsonObject e)
            foreach (var k in new[] { "psnr", "ms_ssim", "bpp", "bpp_estimated" })
                if (e[k] is JsonValue ev && ev.TryGetValue<double>(out var d)) yield return ($"eval/{k}", d);
        if (line["eval_per_client"] is JsonObject pc)
        {
            foreach (var k in new[] { "psnr", "bpp" })
                if (pc[k] is JsonValue pv && pv.TryGetValue<double>(out var d)) yield return ($"eval_per_client/{k}", d);
            foreach (var (domain, v) in pc["domains"]!.AsObject())
                foreach (var k in new[] { "psnr", "bpp" }) yield return ($"eval_per_client/{domain}/{k}", v![k]!.GetValue<double>());
        }
        foreach (var (k, v) in line["bytes"]!.AsObject()) yield return ($"bytes/{k}", v!.GetValue<long>());
        yield return ("bytes/transfers_round", line["bytes_transfers_round"]!.GetValue<long>());
        yield return ("bytes/all_round", line["bytes_round"]!.GetValue<long>());
        if (line["coding"] is JsonObject c)
            foreach (var (t, stats) in c)
                foreach (var k in new[] { "bits_per_symbol_written", "bits_per_symbol_estimated", "bits_per_symbol_entropy" })
                    yield return ($"coding/{t}/{k}", stats![k]!.GetValue<double>());
        yield return ("time/simulated_s", line["simulated_time_s"]!.GetValue<double>());
        yield return ("time/round_simulated_s", line["round_simulated_s"]!.GetValue<double>());
        yield return ("clients/completed", line["clients_completed"]!.GetValue<int>());
        yield return ("clients/dropped", line["clients_dropped"]!.GetValue<int>());
    }

    /// <summary>Records the round (marked <c>diverged</c>) and stops the run: a non-finite model cannot recover.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Diverged(RoundRecord r, JsonObject line, string why)
    {
        var o = ctx.Options;
        line["diverged"] = why;
        rounds.Add(line);
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), line.ToJsonString() + "\n");
        throw new TrainingDivergedException(
            $"round {r.Round}: training diverged: {why}; lower cofusfl.training.client-optimizer.lr ({o.Training.ClientOptimizer.Lr:G3}) " +
            $"and server-optimizer.lr ({o.Training.ServerOptimizer.Lr:G3}). The rounds so far are in {Path.Combine(dir, "metrics.jsonl")}" +
            (File.Exists(Path.Combine(dir, "checkpoints", "latest.safetensors")) ? $"; the last checkpoint is {Path.Combine(dir, "checkpoints", "latest.safetensors")}" : ""));
    }

    /// <summary>The run cannot go on (see <see cref="TrainingDivergedException"/>): the runner rethrows <paramref name="e"/>.</summary>
    public void Failed(Exception e)
    {
        tensorboard?.Dispose();
        tensorboard = null;
        Done.TrySetException(e);
    }

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>
    /// One transfer's entropy coding over a round: bits per symbol written (side information and rANS strings: the
    /// payload bytes of the messages), the coder's own estimate for those symbols, and the empirical entropy (the ideal).
    /// </summary>
    public static JsonObject CodingJson(Protocol.CodingTotals t)
    {
        var n = Math.Max(1.0, t.Symbols);
        return new JsonObject
        {
            ["messages"] = (long)t.Messages,
            ["symbols"] = (long)t.Symbols,
            ["bytes_written"] = (long)t.BytesWritten,
            ["side_bytes"] = (long)t.SideBytes,
            ["bits_per_symbol_written"] = 8.0 * t.BytesWritten / n,
            ["bits_per_symbol_estimated"] = t.BitsEstimated / n,
            ["bits_per_symbol_entropy"] = t.EntropyBits / n,
            ["written_over_estimated"] = Num(8.0 * t.BytesWritten / t.BitsEstimated),
            ["written_over_entropy"] = Num(8.0 * t.BytesWritten / t.EntropyBits),
        };
    }

    /// <summary>The global codec: the server's body and the aggregated head/tail, with fresh CDF tables.</summary>
    public CompressionModel AssembleCodec(ParameterSet server, ParameterSet clients) => RunCheckpoints.AssembleCodec(ctx.Plan, [server, clients]);

    /// <summary>A codec from parameter sets applied in order (a client's personal parameters after the global ones), with fresh CDF tables.</summary>
    public CompressionModel AssembleCodec(IReadOnlyList<ParameterSet> sets) => RunCheckpoints.AssembleCodec(ctx.Plan, sets);

    /// <summary>Names a traffic key: the four transfers of a step, then "{message} {from}->{to}".</summary>
    public static string TrafficKind(TrafficKey k) => TrafficLedger.Kind(k);

    // A resumed run's totals include the sessions before it (from their summary.json and metrics.jsonl).
    private JsonObject? earlier;
    private double earlierSimulatedSeconds, earlierWallSeconds;
    private int session = 1;
    private readonly Dictionary<string, long> earlierUpdates = new(StringComparer.Ordinal);
    private (long Sent, long Counted, long Late, long Rejected) updatesRecorded;

    /// <summary>This session's client updates since the previous round's line (what a later session sums when the summary is missing).</summary>
    private JsonObject UpdatesSinceLastRound()
    {
        var u = ctx.Updates;
        var now = (Interlocked.Read(ref u.Sent), Interlocked.Read(ref u.Counted), Interlocked.Read(ref u.Late), Interlocked.Read(ref u.Rejected));
        var d = new JsonObject
        {
            ["sent"] = now.Item1 - updatesRecorded.Sent, ["counted"] = now.Item2 - updatesRecorded.Counted,
            ["late"] = now.Item3 - updatesRecorded.Late, ["rejected"] = now.Item4 - updatesRecorded.Rejected,
        };
        updatesRecorded = now;
        return d;
    }

    private void LoadEarlierSession(uint firstRound)
    {
        var metrics = Path.Combine(dir, "metrics.jsonl");
        var kept = File.Exists(metrics)
            ? File.ReadLines(metrics).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => o["round"]!.GetValue<uint>() < firstRound).ToList()
            : [];
        rounds.AddRange(kept);
        File.WriteAllText(metrics, string.Concat(kept.Select(o => o.ToJsonString() + "\n")));
        var summary = Path.Combine(dir, "summary.json");
        if (File.Exists(summary)) earlier = JsonNode.Parse(File.ReadAllText(summary))!.AsObject();
        // A session killed before its summary (SIGINT, kill -9, a crash) left only its round lines: they are the record.
        // A summary counts for the rounds it covers only if they are the rounds kept.
        if (earlier is not null && earlier["rounds"]?.GetValue<int>() != kept.Count) earlier = null;
        earlierSimulatedSeconds = kept.Count > 0 ? kept[^1]["simulated_time_s"]!.GetValue<double>() : 0;
        earlierWallSeconds = earlier?["wall_time_s"]?.GetValue<double>() ?? kept.Sum(x => x["round_wall_s"]?.GetValue<double>() ?? 0);
        var sessionsBefore = Math.Max(earlier?["sessions"]?.GetValue<int>() ?? 0,
            kept.Count == 0 ? 0 : kept.Max(x => x["session"]?.GetValue<int>() ?? 1));
        session = sessionsBefore + 1;
        foreach (var (key, field) in new[] { ("client_updates_sent", "sent"), ("client_updates_counted", "counted"), ("client_updates_late", "late"), ("client_updates_rejected", "rejected") })
            earlierUpdates[key] = earlier?[key]?.GetValue<long>() ?? kept.Sum(x => x["updates"]?[field]?.GetValue<long>() ?? 0);
        earlierUpdates["lost_updates"] = earlier?["lost_updates"]?.GetValue<long>()
            ?? earlierUpdates["client_updates_sent"] - earlierUpdates["client_updates_counted"] - earlierUpdates["client_updates_late"] - earlierUpdates["client_updates_rejected"];
    }

    private long Earlier(string key) => earlierUpdates.GetValueOrDefault(key);

    /// <summary>summary.json: final evaluation, totals by kind, rounds, lost updates (over every session of a resumed run).</summary>
    public JsonObject WriteSummary(ActorSystem system, string runName)
    {
        var plotsStart = System.Diagnostics.Stopwatch.GetTimestamp();
        Plots.Write(dir, rounds);
        ctx.Profile.Add(ProfilePart.MetricsIo, plotsStart);
        var totals = new JsonObject();
        // Earlier sessions' bytes from their per-round records (present even when a session died before its summary).
        foreach (var round in rounds.Where(x => x["round"]!.GetValue<uint>() < FirstRound))
            foreach (var (k, v) in round["bytes"]!.AsObject()) totals[k] = (totals[k]?.GetValue<long>() ?? 0) + v!.GetValue<long>();
        foreach (var g in system.Traffic.Snapshot().GroupBy(s => TrafficLedger.Kind(s.Key)))
            totals[g.Key] = (totals[g.Key]?.GetValue<long>() ?? 0) + g.Sum(Ledger.BytesOf);
        long all = 0, transfers = 0;
        foreach (var (k, v) in totals)
        {
            all += v!.GetValue<long>();
            if (Protocol.Transfers.IsTransfer(k)) transfers += v.GetValue<long>();
        }
        totals = new JsonObject(totals.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        var faults = new JsonObject();
        if (earlier?["faults"] is JsonObject beforeFaults)
            foreach (var (k, v) in beforeFaults) faults[k] = v!.GetValue<long>();
        foreach (var s in system.Traffic.Snapshot())
        {
            void Add(string k, long v) { if (v != 0) faults[k] = (faults[k]?.GetValue<long>() ?? 0) + v; }
            Add("dropped", s.Dropped); Add("duplicated", s.Duplicated); Add("delayed", s.Delayed); Add("reordered", s.Reordered);
            Add("partition_dropped", s.PartitionDropped); Add("corrupt_injected", s.CorruptInjected); Add("corrupt_detected", s.CorruptDetected);
            Add("rejected", s.Rejected); Add("dead_lettered", s.DeadLettered);
        }
        // Injected crashes are actor faults, not traffic: counted by the system by kind (crash-stop, crash-restart).
        foreach (var kind in new[] { "crash-stop", "crash-restart" })
            if (system.Traffic.FaultCount(kind) is var n and not 0) faults[kind.Replace('-', '_')] = (faults[kind.Replace('-', '_')]?.GetValue<long>() ?? 0) + n;
        var wallSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(wallStart).TotalSeconds;
        var summary = new JsonObject
        {
            ["name"] = runName,
            ["rounds"] = rounds.Count,
            ["model"] = ctx.Plan.ModelName,
            ["split"] = new JsonObject { ["head"] = ctx.Plan.Head, ["tail"] = ctx.Plan.Tail, ["features_up"] = ctx.Options.Split.Features.Uplink, ["features_down"] = ctx.Options.Split.Features.Downlink, ["gradients_up"] = ctx.Options.Split.Gradients.Uplink, ["gradients_down"] = ctx.Options.Split.Gradients.Downlink },
            ["beta"] = ctx.Options.Loss.Beta,
            ["lambda"] = ctx.Options.Loss.Lambda,
            ["setup"] = new JsonObject
            {
                ["n"] = ctx.Plan.N, ["m"] = ctx.Plan.M, ["crop"] = ctx.Options.Data.Crop, ["batch_size"] = ctx.Options.Data.BatchSize,
                ["local_steps"] = ctx.Options.Training.LocalSteps, ["mode"] = ctx.Options.Training.Mode, ["seed"] = ctx.Options.Seed,
                ["clients"] = ctx.Options.Federation.Clients, ["clients_per_round"] = ctx.Options.Federation.ClientsPerRound,
                ["gradient_step"] = ctx.Options.Split.Gradients.Step, ["gain_init"] = ctx.Options.Split.Features.GainInit,
                ["partition"] = ctx.Options.Data.Partition.Kind,
            },
            ["bytes_total"] = all,
            ["bytes_transfers"] = transfers,
            ["bytes_by_kind"] = totals,
            ["client_updates_sent"] = Earlier("client_updates_sent") + ctx.Updates.Sent,
            ["client_updates_counted"] = Earlier("client_updates_counted") + ctx.Updates.Counted,
            ["client_updates_late"] = Earlier("client_updates_late") + ctx.Updates.Late,
            ["client_updates_rejected"] = Earlier("client_updates_rejected") + ctx.Updates.Rejected,
            ["lost_updates"] = Earlier("lost_updates") + ctx.Updates.Lost,
            ["faults"] = faults,
            ["simulated_time_s"] = earlierSimulatedSeconds + (last?.SimulatedTime.TotalSeconds ?? 0),
            ["wall_time_s"] = earlierWallSeconds + wallSeconds,
            ["sessions"] = session,
            ["final_model_hash"] = last is null ? null : Hash(last),
            ["peak_rss_mb"] = PeakRssMb(),
            ["clients_registered"] = ctx.Clients.Count,
            ["actor_failures"] = (Failures ?? new ActorFailures(null)).ToJson(earlier?["actor_failures"] as JsonObject),
        };
        // Over every recorded round of every session (a resumed run keeps the earlier lines).
        var rejectedTotals = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var x in rounds)
            if (x["rejected_by_kind"] is JsonObject byKind)
                foreach (var (kind, n) in byKind) rejectedTotals[kind] = rejectedTotals.GetValueOrDefault(kind) + n!.GetValue<ulong>();
        summary["rejected_by_kind"] = new JsonObject(rejectedTotals.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        if (lastEval is not null) summary["kodak"] = lastEval.ToJson(includeImages: false);
        if (lastPerClient is not null) summary["per_client"] = lastPerClient.DeepClone();
        var curve = rounds.Where(x => x["eval"] is not null).Select(x => (JsonNode)new JsonObject
        {
            ["round"] = x["round"]!.GetValue<uint>(), ["simulated_time_s"] = x["simulated_time_s"]!.GetValue<double>(),
            ["bytes_transfers_cumulative"] = rounds.TakeWhile(y => y != x).Sum(y => y["bytes_transfers_round"]!.GetValue<long>()) + x["bytes_transfers_round"]!.GetValue<long>(),
            ["psnr"] = x["eval"]!["psnr"]!.GetValue<double>(), ["bpp"] = x["eval"]!["bpp"]!.GetValue<double>(),
        }).ToArray();
        summary["eval_curve"] = new JsonArray(curve);
        var target = ctx.Options.Evaluation.TargetPsnr;
        if (target > 0)
        {
            var hit = curve.FirstOrDefault(c => c!["psnr"]!.GetValue<double>() >= target);
            summary["target_psnr"] = target;
            summary["time_to_target_psnr_s"] = hit?["simulated_time_s"]?.GetValue<double>();
            summary["bytes_to_target_psnr"] = hit?["bytes_transfers_cumulative"]?.GetValue<long>();
        }
        // This session's wall time by kind of work (a resumed run's earlier sessions are not in it).
        summary["profile"] = ctx.Profile.ToJson(wallSeconds);
        summary["gc"] = ctx.Profile.GcJson();
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }

    /// <summary>Peak resident memory of this process (VmHWM), in MiB; null where /proc is not available.</summary>
    public static double? PeakRssMb()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : double.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException) { return null; }
    }

    private static string Hash(RoundRecord r) => r.ServerParameters.Hash()[..16] + r.ClientParameters.Hash()[..16];
}

/// <summary>The global model became non-finite: the run stops (the CLI exits 1 with this message).</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
