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

/// <summary>Where a run writes, and whether it resumes from its latest checkpoint.</summary>
public sealed record RunRequest(string RunDirectory, bool Resume = false, string? ResolvedConfigText = null);

/// <summary>What a finished run reports.</summary>
public sealed record RunOutcome(string RunDirectory, JsonObject Summary, IReadOnlyList<JsonObject> Rounds);

/// <summary>
/// Builds and runs one in-process simulation: data, client population, actor system (virtual or real clock,
/// links, faults), the four roles, and the run folder.
/// </summary>
public static partial class SimulationRunner
{
    /// <param name="images">Training images; null = the folders of <c>cofusfl.data.train</c>.</param>
    /// <param name="evaluation">Evaluation on real bitstreams; null = the folder of <c>cofusfl.evaluation.dataset</c>.</param>
    public static RunOutcome Run(SimulationOptions o, RunRequest request, Action<string>? progress = null,
        ITrainingImages? images = null, CodecEvaluator? evaluation = null) =>
        Run(o, request, new RunHooks { Log = progress }, images, evaluation);

    public static RunOutcome Run(SimulationOptions o, RunRequest request, RunHooks hooks,
        ITrainingImages? images = null, CodecEvaluator? evaluation = null) =>
        Run(o, request, hooks, images, evaluation, placement: null);

    /// <param name="placement">Where the clients run: null = in this process; a cluster placement puts them on worker nodes.</param>
    public static RunOutcome Run(SimulationOptions o, RunRequest request, RunHooks hooks,
        ITrainingImages? images, CodecEvaluator? evaluation, IClientPlacement? placement)
    {
        var progress = hooks.Log;
        if (placement is not null && o.Runtime.Clock != "real")
            throw new ArgumentException($"cofusfl.runtime.clock = {o.Runtime.Clock}: cluster mode (cofusfl.cluster.enabled = on) runs on the real clock; set cofusfl.runtime.clock = real");
        var ctx = BuildContext(o, images, progress, hooks.ClientFinished is { } finished ? (client, _) => finished(client) : null);
        var clients = ctx.Clients;

        var runDir = request.RunDirectory;
        Directory.CreateDirectory(runDir);
        // Held until the run returns: nothing of the folder is read or written before it is ours.
        using var folderLock = RunFolderLock.Acquire(runDir);
        uint firstRound = 1;
        if (request.Resume) firstRound = Resume(ctx, runDir);
        if (firstRound > (uint)o.Run.Rounds)
            throw new ArgumentException($"{runDir} already holds all {o.Run.Rounds} rounds; raise cofusfl.run.rounds to continue it");
        if (request.ResolvedConfigText is not null) WriteOwnerOnly(Path.Combine(runDir, "config.conf"), request.ResolvedConfigText);

        var evalFolder = Path.IsPathRooted(o.Evaluation.Dataset) ? o.Evaluation.Dataset : Path.Combine(o.Data.Root, o.Evaluation.Dataset);
        var failures = new ActorFailures(hooks.Warn ?? Console.Error.WriteLine);
        ctx.Rejections = new RejectedPayloads(hooks.Warn ?? Console.Error.WriteLine);
        var recorder = new RunRecorder(ctx, runDir, o.Evaluation.Enabled ? evaluation ?? new CodecEvaluator(evalFolder) : null, firstRound, hooks)
        {
            RemoteSenderRoles = placement?.RemoteRoles ?? new HashSet<string>(StringComparer.Ordinal),
            Failures = failures,
        };
        var systemOptions = SystemOptions(o, clients, runDir);
        using var system = ActorSystem.Create(placement is null ? systemOptions : placement.Configure(systemOptions));
        system.ActorFailed += failures.Record;
        ctx.Server = system.ActorOf(Props.Create(() => new SplitServerActor(ctx)).WithRole("server"), "server");
        ctx.Aggregator = system.ActorOf(Props.Create(() => new AggregatorActor(ctx)).WithRole("aggregator"), "aggregator");
        if (placement is null)
            foreach (var c in clients)
                ctx.ClientRefs[c.Id] = system.ActorOf(Props.Create(() => new ClientActor(ctx, c)).WithRole("client"), c.Id);
        placement?.PlaceClients(system, ctx);
        try
        {
            ctx.Coordinator = system.ActorOf(Props.Create(() => new CoordinatorActor(ctx, recorder)).WithRole("coordinator"), "coordinator");

            if (system.IsVirtual)
            {
                system.RunUntilComplete(recorder.Done.Task);
                // Let stragglers (over-committed or late clients) deliver or give up, so every update is accounted for.
                system.RunUntilIdle(system.Now + o.Federation.RoundDeadline);
            }
            else recorder.Done.Task.GetAwaiter().GetResult();
            placement?.Settle(system, ctx);
            var summary = recorder.WriteSummary(system, o.Run.Name);
            return new RunOutcome(runDir, summary, recorder.Rounds);
        }
        finally
        {
            placement?.Finish(system, ctx);
        }
    }

    /// <summary>
    /// Writes a file only its owner can read (0600 where the OS has modes): a resolved configuration may hold what the
    /// redaction does not know to be secret (a token in a path, a user name).
    /// </summary>
    private static void WriteOwnerOnly(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(text);
        // UnixCreateMode applies to a new file only; a resumed run's config.conf already exists.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>
    /// Everything of a run that follows from its configuration alone: split plan, data partitions and client specs
    /// (validated options, seeded). The same options give the same context in every process (cluster workers rely on it).
    /// </summary>
    /// <param name="images">Training images; null = the folders of <c>cofusfl.data.train</c>.</param>
    public static SimulationContext BuildContext(SimulationOptions o, ITrainingImages? images = null, Action<string>? progress = null,
        Action<string, uint>? clientFinished = null)
    {
        Validate(o);
        if (o.Torch.Threads > 0) torch.set_num_threads(o.Torch.Threads);
        else torch.set_num_threads(Environment.ProcessorCount);
        torch.manual_seed((ulong)o.Seed);
        var plan = new SplitPlan(o.Model.Name, o.Model.N, o.Model.M, o.Split.Head, o.Split.Tail).Validate();
        if (images is null)
        {
            if (o.Data.Format != DataFormat.Folders)
                throw new ArgumentException($"cofusfl.data.format = {o.Data.Format}: CIFAR files are read by `cofusfl codec train` (joint compression + classification); a U-SFL run trains on image folders (format = folders)");
            progress?.Invoke($"loading training images from {string.Join(", ", o.Data.Train)}");
            images = TrainingImageSet.Load(o.Data.Root, o.Data.Train);
        }
        ValidatePersonalPatterns(o, plan);
        // Per-client evaluation: the last image of every hold-out-every of each folder is never trained on.
        var every = o.Evaluation.PerClient ? o.Evaluation.HoldOutEvery : int.MaxValue;
        var heldOut = images.Domains.Select(d => d.Where((_, k) => k % every == every - 1).ToArray()).ToList();
        var training = images.Domains.Select(d => d.Where((_, k) => k % every != every - 1).ToArray()).ToList();
        var partitions = Partitions.Build(o.Data.Partition.Kind, training, o.Federation.Clients, o.Data.Partition.Alpha,
            o.Data.Partition.SamplesPerClient, o.Seed);
        var clients = ClientPopulation.Draw(o, partitions);
        CoFUsfl.Models.Codecs.CompressionModel? teacher = null;
        if (o.Training.Teacher.Length > 0)
        {
            if (!File.Exists(o.Training.Teacher))
                throw new ArgumentException($"cofusfl.training.teacher = \"{o.Training.Teacher}\": no such file ({Path.GetFullPath(o.Training.Teacher)})");
            try { teacher = Training.CodecTrainer.Load(o.Training.Teacher); }
            catch (FormatException e) { throw new ArgumentException($"cofusfl.training.teacher: {e.Message}", e); }
            teacher.to(Device.Parse(o.Torch.Device));
            teacher.eval();
        }
        return new SimulationContext
        {
            Teacher = teacher,
            Options = o, Plan = plan, Images = images, Clients = clients, Personal = new NamePatterns(o.Federation.Personal),
            ServerPersonal = new NamePatterns(o.Federation.ServerPersonal), HeldOut = heldOut,
            ClientFinished = clientFinished,
            Availability = o.Clients.AvailabilityTrace.Length > 0 ? AvailabilityTrace.Load(o.Clients.AvailabilityTrace) : AvailabilityTrace.Empty,
        };
    }


    private static uint Resume(SimulationContext ctx, string runDir)
    {
        var path = Path.Combine(runDir, "checkpoints", "latest.safetensors");
        if (!File.Exists(path)) throw new FileNotFoundException($"--resume: no checkpoint at {path}");
        if (ctx.Options.Federation.Strategy.Name == "fedadam")
            throw new ArgumentException("--resume: cofusfl.federation.strategy.name = \"fedadam\": its server moments are not checkpointed, so a resumed run " +
                "would not continue as one run; run it again from round 1 (or resume with fedavg in a new configuration and say so)");
        var meta = new Dictionary<string, string>();
        Dictionary<string, Tensor> tensors;
        try { tensors = Safetensors.Load(path, meta); }
        catch (FormatException e) { throw new InvalidDataException($"--resume: {e.Message}", e); }
        try
        {
            RefuseIncompatible(ctx, path, meta, tensors);
            var server = new ParameterSet();
            var client = new ParameterSet();
            using var scope = DisposeScope.Open();
            foreach (var (name, t) in tensors)
                (ctx.Plan.IsClientParameter(name) ? client : server).Set(name, t.shape, t.@float().data<float>());
            if ((server.FirstNonFinite() ?? client.FirstNonFinite()) is { } bad)
                throw new InvalidDataException($"--resume: {path}: '{bad}' holds NaN or infinite values; resume from an earlier checkpoints/round-NNNN.safetensors (copy it over latest.safetensors) or start again");
            ctx.ServerCheckpoint = server;
            ctx.AggregatorCheckpoint = client;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        var round = meta.GetValueOrDefault("round") ?? throw new InvalidDataException($"{path}: no round in its metadata");
        // The server's optimizer state of the same round (absent in checkpoints of older versions: Adam then restarts).
        var optimizerPath = Path.Combine(runDir, "checkpoints", "latest.optimizer.safetensors");
        if (File.Exists(optimizerPath)) ctx.ServerOptimizerCheckpoint = LoadCheckpointSet(optimizerPath, round);
        // FedLC: every client's server-side parameters of the same round; without them the run could not go on as one.
        var personalPath = Path.Combine(runDir, "checkpoints", RunCheckpoints.ServerPersonalCheckpointFile);
        if (ctx.Options.Federation.ServerPersonal.Count > 0)
        {
            if (!File.Exists(personalPath))
                throw new FileNotFoundException($"--resume: cofusfl.federation.server-personal is set but {personalPath} (the per-client server parameters) is missing; " +
                    "was the run started without server-personal?");
            ctx.ServerPersonalCheckpoint = LoadCheckpointSet(personalPath, round);
        }
        // Every client's client-side personal parameters of the same round, handed to the client actors as they start.
        if (ctx.Options.Federation.Personal.Count > 0)
        {
            var clientPersonalPath = Path.Combine(runDir, "checkpoints", RunCheckpoints.ClientPersonalCheckpointFile);
            if (!File.Exists(clientPersonalPath))
                throw new FileNotFoundException($"--resume: cofusfl.federation.personal is set but {clientPersonalPath} (every client's personal parameters) is missing: " +
                    "the run was started without personal parameters, before any client finished a round, or in cluster mode, where they stay on the workers and are not checkpointed");
            var all = LoadCheckpointSet(clientPersonalPath, round);
            var known = ctx.Clients.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            Dictionary<string, long[]> shapes;
            using (var probe = new ClientModel(ctx.Plan, ctx.EntropyUplink, ctx.Options.Split.Features.GainInit, null))
                shapes = probe.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape, StringComparer.Ordinal);
            foreach (var name in all.Names)
            {
                var parts = name.Split('/', 2);
                if (parts.Length != 2 || !known.Contains(parts[0]))
                    throw new InvalidDataException($"--resume: {clientPersonalPath}: '{name}' is not client/parameter of a client of this run");
                if (!shapes.TryGetValue(parts[1], out var shape) || !shape.SequenceEqual(all[name].Shape))
                    throw new InvalidDataException($"--resume: {clientPersonalPath}: '{name}' [{string.Join(", ", all[name].Shape)}] is not a client-side parameter of this model" +
                        (shape is null ? "" : $" (expected [{string.Join(", ", shape)}])"));
                var set = ctx.ClientPersonalState.GetOrAdd(parts[0], _ => new ParameterSet());
                set.Set(parts[1], all[name].Shape, all[name].Values);
            }
        }
        return uint.Parse(round, System.Globalization.CultureInfo.InvariantCulture) + 1;
    }

    /// <summary>
    /// A checkpoint of another configuration (a changed model size, split point, codec, seed…) or of other shapes is
    /// refused naming every differing key, instead of failing inside the actors.
    /// </summary>
    private static void RefuseIncompatible(SimulationContext ctx, string path, Dictionary<string, string> meta, Dictionary<string, Tensor> tensors)
    {
        var o = ctx.Options;
        var differ = new List<string>();
        foreach (var (key, now) in ResumeKeys.Of(o))
            if (meta.TryGetValue(ResumeKeys.MetaPrefix + key, out var then) && then != now) differ.Add($"{key} = {then} in the checkpoint, {now} now");
        // Checkpoints written before the configuration was recorded still name their model and split points.
        if (!meta.Keys.Any(k => k.StartsWith(ResumeKeys.MetaPrefix, StringComparison.Ordinal)))
            foreach (var (key, full, now) in new[]
                     {
                         ("model", "cofusfl.model.name", o.Model.Name), ("n", "cofusfl.model.n", o.Model.N.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                         ("m", "cofusfl.model.m", o.Model.M.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                         ("head", "cofusfl.split.head", o.Split.Head.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                         ("tail", "cofusfl.split.tail", o.Split.Tail.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                     })
                if (meta.TryGetValue(key, out var then) && then != now) differ.Add($"{full} = {then} in the checkpoint, {now} now");
        if (differ.Count > 0)
            throw new ArgumentException($"--resume: {path} was trained under another configuration: {string.Join("; ", differ)}. " +
                "A resumed run keeps the seed, model, split, codecs, mode, clients, personal parameters and data partition of its checkpoint; " +
                "restore those values, or start a new run folder (without --resume)");
        // The shapes the configured models expect, against those stored.
        using var scope = DisposeScope.Open();
        using var client = new ClientModel(ctx.Plan, ctx.EntropyUplink, o.Split.Features.GainInit, null);
        using var server = new ServerModel(ctx.Plan, ctx.EntropyDownlink, o.Split.Features.GainInit, null);
        var expected = client.named_parameters().Concat(server.named_parameters()).ToDictionary(p => p.name, p => p.parameter.shape, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, shape) in expected.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!tensors.TryGetValue(name, out var t)) problems.Add($"'{name}' is missing");
            else if (!t.shape.SequenceEqual(shape)) problems.Add($"'{name}' is [{string.Join(", ", t.shape)}], the model needs [{string.Join(", ", shape)}]");
        }
        foreach (var name in tensors.Keys.Where(n => !expected.ContainsKey(n)).Order(StringComparer.Ordinal)) problems.Add($"'{name}' is not a parameter of the model");
        if (problems.Count > 0)
            throw new InvalidDataException($"--resume: {path} does not fit the configured model ({o.Model.Name}, N = {o.Model.N}, M = {o.Model.M}, " +
                $"split {o.Split.Head}/{o.Split.Tail}): {string.Join("; ", problems.Take(4))}{(problems.Count > 4 ? $"; and {problems.Count - 4} more" : "")}");
    }

    /// <summary>A checkpoint file that goes with the weights of <paramref name="round"/> (an error if it is of another round).</summary>
    private static ParameterSet LoadCheckpointSet(string path, string round)
    {
        var meta = new Dictionary<string, string>();
        Dictionary<string, Tensor> tensors;
        try { tensors = Safetensors.Load(path, meta); }
        catch (FormatException e) { throw new InvalidDataException($"--resume: {e.Message}", e); }
        try
        {
            if (meta.GetValueOrDefault("round") != round)
                throw new InvalidDataException($"--resume: {path} is of round {meta.GetValueOrDefault("round") ?? "?"}, the weights of round {round}");
            var set = new ParameterSet();
            using var scope = DisposeScope.Open();
            foreach (var (name, t) in tensors) set.Set(name, t.shape, t.@float().data<float>());
            return set;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>The actor system of a run: clock, seed, links of every client and the server, faults, event log (null <paramref name="runDir"/>: none).</summary>
    public static ActorSystemOptions SystemOptions(SimulationOptions o, IReadOnlyList<ClientSpec> clients, string? runDir)
    {
        static double Bps(double mbps) => mbps * 1e6 / 8;
        var links = clients.Select(c => new ActorLinkRule(c.Id, new LinkProfile
        {
            UplinkBytesPerSecond = c.UplinkBytesPerSecond, DownlinkBytesPerSecond = c.DownlinkBytesPerSecond, Latency = c.Latency,
        })).Append(new ActorLinkRule("server", new LinkProfile
        {
            UplinkBytesPerSecond = Bps(o.Runtime.ServerUplinkMbps), DownlinkBytesPerSecond = Bps(o.Runtime.ServerDownlinkMbps),
        })).ToList();
        return new ActorSystemOptions
        {
            Clock = o.Runtime.Clock switch
            {
                "virtual" => ClockMode.Virtual,
                "real" => ClockMode.RealTime,
                _ => throw new ArgumentException($"cofusfl.runtime.clock: unknown '{o.Runtime.Clock}' (virtual, real)"),
            },
            Seed = o.Seed,
            SerializeMessages = o.Runtime.SerializeMessages,
            Faults = o.Faults,
            Network = new NetworkOptions { Actors = links },
            EventLogPath = o.Runtime.EventLog && runDir is not null ? Path.Combine(runDir, "events.jsonl") : null,
        };
    }

}
