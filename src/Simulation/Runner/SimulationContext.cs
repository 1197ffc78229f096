using System.Diagnostics;
using CoFUsfl.Actors;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;

namespace CoFUsfl.Simulation.Runner;

/// <summary>One simulated device: its profile values and its share of the data.</summary>
public sealed record ClientSpec(string Id, int Index, string Profile, double Speed, double UplinkBytesPerSecond,
    double DownlinkBytesPerSecond, TimeSpan Latency, double Availability, int[] Images)
{
    /// <summary>The actor name of the <paramref name="number"/>-th client, counting from 1: <c>client-0001</c>.</summary>
    public static string IdOf(int number) => $"client-{number:D4}";
}

/// <summary>Client-update accounting of a run: every update a client sends is counted, late, or rejected — never lost.</summary>
public sealed class UpdateCounters
{
    public long Sent, Counted, Late, Rejected;
    public long Lost => Sent - Counted - Late - Rejected;
}

/// <summary>What every role of one run shares (immutable after start, except the actor references set once).</summary>
public sealed class SimulationContext
{
    public required SimulationOptions Options { get; init; }
    public required SplitPlan Plan { get; init; }
    public required ITrainingImages Images { get; init; }
    public required IReadOnlyList<ClientSpec> Clients { get; init; }
    public required NamePatterns Personal { get; init; }
    /// <summary>Split-server parameters kept per client (<c>federation.server-personal</c>).</summary>
    public NamePatterns ServerPersonal { get; init; } = new([]);
    /// <summary>Per domain (training folder): the images held out of training for the per-client evaluation (empty arrays when off).</summary>
    public IReadOnlyList<int[]> HeldOut { get; init; } = [];
    /// <summary>On/off availability per client and round, from <c>clients.availability-trace</c> (empty = none).</summary>
    public AvailabilityTrace Availability { get; init; } = AvailabilityTrace.Empty;
    public ActorRef Server { get; set; } = null!;
    public ActorRef Aggregator { get; set; } = null!;
    public ActorRef Coordinator { get; set; } = null!;
    public Dictionary<string, ActorRef> ClientRefs { get; } = new(StringComparer.Ordinal);
    public UpdateCounters Updates { get; } = new();
    /// <summary>Wall time of this process by kind of work (summary.json <c>profile</c>).</summary>
    public Metrics.WallProfile Profile { get; } = new();
    /// <summary>Called with (client, round) when a client has finished its local steps and sends its update (progress display; a worker's update report).</summary>
    public Action<string, uint>? ClientFinished { get; init; }
    /// <summary>Where undecodable payloads are logged, once per cause (their counts travel in the round's messages).</summary>
    public Metrics.RejectedPayloads Rejections { get; set; } = new(Console.Error.WriteLine);

    /// <summary>
    /// Called by the aggregator with the sender's address and the round of every client update that reaches it (cluster
    /// mode: an update that arrived was sent, even when its report was lost with a broker restart). Null in one process.
    /// </summary>
    public Action<string, uint>? UpdateArrived { get; set; }

    /// <summary>
    /// The last round-end state of the split server and the aggregator, and the round in progress: a crashed
    /// server or aggregator restarts from here (its checkpoint) instead of from the initial weights.
    /// </summary>
    public ParameterSet? ServerCheckpoint { get; set; }
    /// <summary>The split server's optimizer state (Adam moments and steps) that goes with <see cref="ServerCheckpoint"/>.</summary>
    public ParameterSet? ServerOptimizerCheckpoint { get; set; }
    public ParameterSet? AggregatorCheckpoint { get; set; }
    /// <summary>
    /// The split server's per-client parameters and their optimizer state (<see cref="Split.ServerPersonalization"/>),
    /// saved with <see cref="ServerCheckpoint"/>: a restarted or resumed server keeps every client's copy.
    /// </summary>
    public ParameterSet? ServerPersonalCheckpoint { get; set; }
    /// <summary>
    /// Each client's personal (client-side) parameters as of its last finished round, published for the per-client
    /// evaluation. In process only: in cluster mode clients live elsewhere and this stays empty.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, ParameterSet> ClientPersonalState { get; } = new(StringComparer.Ordinal);
    /// <summary>
    /// How many times each client restarted after a crash (its incarnation, stamped on its transfers [1] and [3]): the
    /// split server tells a restarted client's new attempt at the round from what its earlier instance left in flight.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, uint> ClientIncarnations { get; } = new(StringComparer.Ordinal);
    /// <summary>The aggregator's round in progress and update accounting: what it acknowledged survives its restart.</summary>
    public Roles.AggregatorJournal AggregatorJournal { get; } = new();
    public Protocol.RoundPlan? CurrentPlan { get; set; }

    /// <summary>Where tensors live (<c>cofusfl.torch.device</c>); checked by <see cref="SimulationRunner.Validate"/>.</summary>
    public CoFUsfl.Torch.Device Device => CoFUsfl.Torch.Device.Parse(Options.Torch.Device);

    /// <summary>The distillation teacher every client runs (<c>training.teacher</c>), in eval mode and read-only; null: none.</summary>
    public CoFUsfl.Models.Codecs.CompressionModel? Teacher { get; init; }

    /// <summary>What the halves of the split step take from <see cref="Options"/>.</summary>
    public StepSettings Step => step ??= StepSettings.From(Options);
    private StepSettings? step;

    public Protocol.FeatureDensity? EntropyUplink => Protocol.FeatureCodec.DensityOf(Options.Split.Features.Uplink);
    public Protocol.FeatureDensity? EntropyDownlink => Protocol.FeatureCodec.DensityOf(Options.Split.Features.Downlink);

    /// <summary>Simulated compute time of a step part: MACs over the device's speed (estimated, deterministic) or wall time / speed (measured).</summary>
    public TimeSpan ComputeTime(long macs, double speed, long startTimestamp)
    {
        if (Options.Runtime.ComputeTime == "measured")
            return TimeSpan.FromTicks((long)(Stopwatch.GetElapsedTime(startTimestamp).Ticks / speed));
        return TimeSpan.FromSeconds(macs / (Options.Runtime.ReferenceMacsPerSecond * speed));
    }

    /// <summary>A seed for a (purpose, round, client, step) tuple: every random stream of a run derives from cofusfl.seed.</summary>
    public ulong DeriveSeed(string purpose, long round = 0, long index = 0, long step = 0)
    {
        var h = (ulong)Options.Seed ^ 0x9E3779B97F4A7C15UL;
        foreach (var c in purpose) h = Mix(h ^ c);
        h = Mix(h ^ (ulong)round);
        h = Mix(h ^ (ulong)index);
        return Mix(h ^ (ulong)step);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
