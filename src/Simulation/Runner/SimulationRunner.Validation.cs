using System.Text.Json.Nodes;
using CoFUsfl.Actors;
using CoFUsfl.Models.Evaluation;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Roles;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Runner;

/// <summary>What a configuration must satisfy before a run builds anything: ranges, names, patterns (each error names its key).</summary>
public static partial class SimulationRunner
{
    /// <summary>
    /// A personal pattern that matches no parameter would silently personalize nothing (a typo, a name of another
    /// model): an error naming the key and the names it could match.
    /// </summary>
    public static void ValidatePersonalPatterns(SimulationOptions o, SplitPlan plan)
    {
        if (o.Federation.Personal.Count == 0 && o.Federation.ServerPersonal.Count == 0) return;
        using var g = new Generator(0); // throw-away models: the run's random streams are untouched
        using var scope = DisposeScope.Open();
        using var server = new ServerModel(plan, Protocol.FeatureCodec.DensityOf(o.Split.Features.Downlink), o.Split.Features.GainInit, g);
        using var client = new ClientModel(plan, Protocol.FeatureCodec.DensityOf(o.Split.Features.Uplink), o.Split.Features.GainInit, g);
        foreach (var (key, patterns, names) in new[]
        {
            ("personal", o.Federation.Personal, client.named_parameters().Select(p => p.name).ToList()),
            ("server-personal", o.Federation.ServerPersonal, server.named_parameters().Select(p => p.name).ToList()),
        })
            foreach (var pattern in patterns)
                if (!names.Any(n => ActorPattern.Glob(pattern, n)))
                {
                    var prefixes = names.Select(n => n.Split('.')[0] + ".*").Distinct(StringComparer.Ordinal);
                    throw new ArgumentException($"cofusfl.federation.{key}: \"{pattern}\" matches no {(key == "personal" ? "client-side" : "split-server")} " +
                        $"parameter of {plan.ModelName} with this split (its parameters: {string.Join(", ", prefixes)}; * and ? are globs)");
                }
        // The split-2 tables of `entropy` features are frozen from the shared model once per round for every client:
        // a per-client split-2 density would be coded with tables it never learned.
        if (o.Split.Features.Downlink == "entropy" && server.named_parameters().Any(p => p.name.StartsWith("feature2.", StringComparison.Ordinal)
                && o.Federation.ServerPersonal.Any(pt => ActorPattern.Glob(pt, p.name))))
            throw new ArgumentException("cofusfl.federation.server-personal matches feature2.* (the split-2 feature entropy model), but " +
                "cofusfl.split.features.downlink = entropy codes every client's split-2 features with tables frozen from the shared model; " +
                "use downlink = adaptive (or float32, int8), or leave feature2.* shared");
    }

    /// <summary>Checks the values the binder cannot (ranges, names), naming the key.</summary>
    public static void Validate(SimulationOptions o)
    {
        void Need(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Need(o.Run.Rounds >= 1, $"cofusfl.run.rounds = {o.Run.Rounds}: at least 1");
        Need(o.Run.CheckpointEvery >= 0, $"cofusfl.run.checkpoint-every = {o.Run.CheckpointEvery}: 0 (only at the end) or more");
        Need(o.Torch.Threads >= 0, $"cofusfl.torch.threads = {o.Torch.Threads}: 0 (one per processor) or more");
        Need(o.Data.Partition.SamplesPerClient >= 0, $"cofusfl.data.partition.samples-per-client = {o.Data.Partition.SamplesPerClient}: 0 (an equal share) or more");
        Need(o.Evaluation.Every >= 0, $"cofusfl.evaluation.every = {o.Evaluation.Every}: 0 (only at the end) or more");
        Need(o.Evaluation.HoldOutEvery >= 2, $"cofusfl.evaluation.hold-out-every = {o.Evaluation.HoldOutEvery}: 2 or more");
        Need(o.Evaluation.Limit >= 0, $"cofusfl.evaluation.limit = {o.Evaluation.Limit}: 0 (all images) or more");
        Need(o.Data.Crop >= 64 && o.Data.Crop % 64 == 0, $"cofusfl.data.crop = {o.Data.Crop}: a multiple of 64 (the hyperprior's down-sampling)");
        Need(o.Data.BatchSize >= 1, $"cofusfl.data.batch-size = {o.Data.BatchSize}: at least 1");
        Need(o.Training.DistillWeight is >= 0 and <= 1, $"cofusfl.training.distill-weight = {o.Training.DistillWeight}: between 0 and 1");
        Need(o.Data.Train.Count > 0, "cofusfl.data.train: at least one training folder");
        // Before anything is drawn per client (partitions, profiles, actors).
        Need(o.Federation.Clients is >= 1 and <= FederationOptions.MaxClients,
            $"cofusfl.federation.clients = {o.Federation.Clients}: between 1 and {FederationOptions.MaxClients}");
        Need(o.Federation.ClientsPerRound is >= 1 && o.Federation.ClientsPerRound <= o.Federation.Clients,
            $"cofusfl.federation.clients-per-round = {o.Federation.ClientsPerRound}: between 1 and clients ({o.Federation.Clients})");
        Need(o.Federation.OverCommit >= 0 && o.Federation.OverCommit <= o.Federation.Clients,
            $"cofusfl.federation.over-commit = {o.Federation.OverCommit}: between 0 and clients ({o.Federation.Clients})");
        Need(o.Training.LocalSteps >= 1, $"cofusfl.training.local-steps = {o.Training.LocalSteps}: at least 1");
        Need(o.Training.LocalEpochs >= 0, $"cofusfl.training.local-epochs = {o.Training.LocalEpochs}: not negative");
        // Values that would otherwise only fail inside an actor (a constructor or a handler), mid-run.
        Need(o.Split.Features.GainInit > 0 && double.IsFinite(o.Split.Features.GainInit), $"cofusfl.split.features.gain-init = {o.Split.Features.GainInit}: must be positive");
        Need(o.Split.Gradients.TopkRatio is > 0 and <= 1, $"cofusfl.split.gradients.topk-ratio = {o.Split.Gradients.TopkRatio}: must be in (0, 1]");
        Need(o.Split.Gradients.Step is > 0 and <= 1000, $"cofusfl.split.gradients.step = {o.Split.Gradients.Step}: must be in (0, 1000] (units of each channel's RMS)");
        Need(o.Loss.Lambda >= 0 && o.Loss.Beta >= 0, $"cofusfl.loss: lambda ({o.Loss.Lambda}) and beta ({o.Loss.Beta}) must not be negative");
        foreach (var (key, opt) in new[] { ("client-optimizer", o.Training.ClientOptimizer), ("server-optimizer", o.Training.ServerOptimizer) })
        {
            Need(PositiveFinite(opt.Lr), $"cofusfl.training.{key}.lr = {opt.Lr}: a finite number > 0");
            Need(opt.Beta1 is >= 0 and < 1 && opt.Beta2 is >= 0 and < 1 && opt.WeightDecay >= 0 && double.IsFinite(opt.WeightDecay),
                $"cofusfl.training.{key}: 0 ≤ beta1, beta2 < 1 and weight-decay ≥ 0 (got betas {opt.Beta1}, {opt.Beta2}, weight-decay {opt.WeightDecay})");
        }
        Need(PositiveFinite(o.Training.AuxLr), $"cofusfl.training.aux-lr = {o.Training.AuxLr}: a finite number > 0");
        Strategies.FederatedStrategy.Validate(o.Federation.Strategy);
        var ls = o.Training.LrSchedule;
        Need(double.IsFinite(ls.Gamma) && ls.Gamma > 0 && ls.Gamma <= 1, $"cofusfl.training.lr-schedule.gamma = {ls.Gamma}: a finite number in (0, 1]");
        for (var i = 0; i < ls.Milestones.Count; i++)
            Need(ls.Milestones[i] >= 1 && (i == 0 || ls.Milestones[i] > ls.Milestones[i - 1]),
                $"cofusfl.training.lr-schedule.milestones = [{string.Join(", ", ls.Milestones)}]: increasing round numbers >= 1");
        Need(o.Training.ClipGradNorm >= 0 && double.IsFinite(o.Training.ClipGradNorm),
            $"cofusfl.training.clip-grad-norm = {o.Training.ClipGradNorm}: 0 (off) or a finite number > 0");
        Need(PositiveFinite(o.Runtime.ReferenceMacsPerSecond),
            $"cofusfl.runtime.reference-macs-per-second = {o.Runtime.ReferenceMacsPerSecond}: a finite number > 0 (compute time divides by it)");
        Need(PositiveFinite(o.Runtime.ServerSpeed), $"cofusfl.runtime.server-speed = {o.Runtime.ServerSpeed}: a finite number > 0 (compute time divides by it)");
        foreach (var (key, v) in new[] { ("server-uplink-mbps", o.Runtime.ServerUplinkMbps), ("server-downlink-mbps", o.Runtime.ServerDownlinkMbps) })
            Need(PositiveFinite(v), $"cofusfl.runtime.{key} = {v}: a finite number > 0");
        Need(o.Federation.RetryTimeout > TimeSpan.Zero && o.Federation.MaxRetries >= 0 && o.Federation.RoundDeadline > TimeSpan.Zero,
            "cofusfl.federation: retry-timeout and round-deadline must be positive, max-retries not negative");
        Need(o.Training.Quantization is "noise" or "ste", $"cofusfl.training.quantization: unknown '{o.Training.Quantization}' (noise, ste)");
        Need(o.Training.Mode is "sflv1" or "sflv2", $"cofusfl.training.mode: unknown '{o.Training.Mode}' (sflv1, sflv2)");
        Device device;
        try { device = Device.Parse(o.Torch.Device); }
        catch (FormatException e) { throw new ArgumentException($"cofusfl.torch.device: {e.Message}"); }
        Need(device.Type == DeviceType.CPU || torch.cuda.is_available(),
            $"cofusfl.torch.device = {o.Torch.Device}: CUDA is not available to this libtorch build (see docs/gpu.md to build the shim against a CUDA libtorch)");
        Need(device.Type == DeviceType.CPU || device.Index < torch.cuda.device_count(),
            $"cofusfl.torch.device = {o.Torch.Device}: libtorch sees {torch.cuda.device_count()} CUDA device(s)");
        Need(o.Runtime.Clock is "virtual" or "real", $"cofusfl.runtime.clock: unknown '{o.Runtime.Clock}' (virtual, real)");
        Need(o.Runtime.ComputeTime is "estimated" or "measured", $"cofusfl.runtime.compute-time: unknown '{o.Runtime.ComputeTime}' (estimated, measured)");
        foreach (var (key, v) in new[] { ("uplink", o.Split.Features.Uplink), ("downlink", o.Split.Features.Downlink) })
            Need(v is "float32" or "int8" or "entropy" or "adaptive", $"cofusfl.split.features.{key}: unknown codec '{v}' (float32, int8, entropy, adaptive)");
        foreach (var (key, v) in new[] { ("uplink", o.Split.Gradients.Uplink), ("downlink", o.Split.Gradients.Downlink) })
            Need(v is "float32" or "float16" or "int8" or "entropy" or "topk", $"cofusfl.split.gradients.{key}: unknown codec '{v}' (float32, float16, int8, entropy, topk)");
        Need(o.Clients.Profiles.Count > 0, "cofusfl.clients.profiles: at least one profile");
        foreach (var p in o.Clients.Profiles)
        {
            Need(p.Weight > 0, $"cofusfl.clients.profiles[{p.Name}].weight must be positive");
            Need(p.Speed.Count == 2 && p.Speed[0] > 0 && p.Speed[1] >= p.Speed[0], $"cofusfl.clients.profiles[{p.Name}].speed: [min, max] with 0 < min ≤ max");
            Need(p.UplinkMbps.Count == 2 && p.UplinkMbps[0] > 0 && p.UplinkMbps[1] >= p.UplinkMbps[0], $"cofusfl.clients.profiles[{p.Name}].uplink-mbps: [min, max] with 0 < min ≤ max");
            Need(p.DownlinkMbps.Count == 2 && p.DownlinkMbps[0] > 0 && p.DownlinkMbps[1] >= p.DownlinkMbps[0], $"cofusfl.clients.profiles[{p.Name}].downlink-mbps: [min, max] with 0 < min ≤ max");
            Need(p.Latency.Count == 2 && p.Latency[0] >= TimeSpan.Zero && p.Latency[1] >= p.Latency[0],
                $"cofusfl.clients.profiles[{p.Name}].latency = [{string.Join(", ", p.Latency)}]: [min, max] with 0 ≤ min ≤ max");
            Need(p.Availability is > 0 and <= 1, $"cofusfl.clients.profiles[{p.Name}].availability must be in (0, 1]");
        }
        ValidateFaultPatterns(o);
    }

    private static bool PositiveFinite(double v) => v > 0 && double.IsFinite(v);

    /// <summary>
    /// A fault pattern that matches no actor of the run (client-0099 with 8 clients, a misspelt role) would silently
    /// inject nothing. Patterns with a '/' (paths, addresses) are not checked: they depend on where actors are placed.
    /// </summary>
    private static void ValidateFaultPatterns(SimulationOptions o)
    {
        var f = o.Faults;
        var patterns = f.Rules.SelectMany((r, i) => new[] { ($"rules.{i}.from", r.From), ($"rules.{i}.to", r.To) })
            .Concat(f.Partitions.SelectMany((p, i) => p.SideA.Select((a, j) => ($"partitions.{i}.side-a.{j}", a))
                .Concat(p.SideB.Select((b, j) => ($"partitions.{i}.side-b.{j}", b)))))
            .Concat(f.Crashes.Select((c, i) => ($"crashes.{i}.actor", c.Actor)));
        string[] roles = ["server", "aggregator", "coordinator"];
        var clients = Enumerable.Range(1, o.Federation.Clients).Select(ClientSpec.IdOf);
        foreach (var (key, pattern) in patterns)
        {
            if (pattern.Contains('/')) continue;
            var exists = roles.Append("client").Any(r => ActorPattern.Glob(pattern, r))
                || clients.Any(c => ActorPattern.Matches(pattern, $"local/user/{c}", "client"));
            if (!exists)
                throw new ArgumentException($"cofusfl.faults.{key} = \"{pattern}\": matches no actor of this run (client-0001 to {ClientSpec.IdOf(o.Federation.Clients)}, " +
                    "server, aggregator, coordinator, or the roles client, server, aggregator, coordinator; * and ? are globs)");
        }
        // A misspelt message type would make its rule inject nothing.
        var types = Protocol.UsflReflection.Descriptor.MessageTypes.Concat(Protocol.UsflControlReflection.Descriptor.MessageTypes)
            .SelectMany(t => new[] { t.FullName, t.Name }).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < f.Rules.Count; i++)
            for (var j = 0; j < f.Rules[i].Messages.Count; j++)
                if (!types.Contains(f.Rules[i].Messages[j]))
                    throw new ArgumentException($"cofusfl.faults.rules.{i}.messages.{j} = \"{f.Rules[i].Messages[j]}\": no message of the protocol has this type " +
                        $"(one of {string.Join(", ", Protocol.UsflReflection.Descriptor.MessageTypes.Concat(Protocol.UsflControlReflection.Descriptor.MessageTypes).Select(t => t.Name).Order(StringComparer.Ordinal))})");
    }
}
