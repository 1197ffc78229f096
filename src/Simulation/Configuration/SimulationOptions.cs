namespace CoFUsfl.Simulation.Configuration;

// Typed view of the `cofusfl` section of the configuration. Every key is documented, with its
// default, in hocon/reference.conf; property names are the PascalCase of the kebab-case keys.

/// <summary>The whole <c>cofusfl</c> section.</summary>
public sealed record SimulationOptions
{
    public long Seed { get; init; } = 42;
    public RunOptions Run { get; init; } = new();
    public TorchOptions Torch { get; init; } = new();
    public DataOptions Data { get; init; } = new();
    public ModelOptions Model { get; init; } = new();
    public LossOptions Loss { get; init; } = new();
    public SplitOptions Split { get; init; } = new();
    public TrainingOptions Training { get; init; } = new();
    public FederationOptions Federation { get; init; } = new();
    public ClientPopulationOptions Clients { get; init; } = new();
    public RuntimeOptions Runtime { get; init; } = new();
    public CoFUsfl.Actors.FaultPlan Faults { get; init; } = new() { Seed = 7 };
    public EvaluationOptions Evaluation { get; init; } = new();
    public Training.CodecTrainingOptions CodecTraining { get; init; } = new();
}

public sealed record RunOptions
{
    public string Name { get; init; } = "run";
    public string Out { get; init; } = "runs";
    public int Rounds { get; init; } = 1;
    public int CheckpointEvery { get; init; } = 1;
}

public sealed record TorchOptions
{
    /// <summary>libtorch intra-op threads; 0 = one per processor.</summary>
    public int Threads { get; init; } = 1;
    public string Device { get; init; } = "cpu";
}

public sealed record DataOptions
{
    /// <summary>Folder the relative data paths are resolved against (relative to the config file's folder).</summary>
    public string Root { get; init; } = "../shared/datasets";
    /// <summary>Training folders, one per image domain (format folders), or CIFAR binary files (format cifar-10, cifar-100).</summary>
    public IReadOnlyList<string> Train { get; init; } = ["bsds500/train", "sunhays80", "urban100"];
    /// <summary>What <see cref="Train"/> names: image folders, or CIFAR binary files (codec train only).</summary>
    public DataFormat Format { get; init; } = DataFormat.Folders;
    public int Crop { get; init; } = 64;
    public int BatchSize { get; init; } = 4;
    public PartitionOptions Partition { get; init; } = new();
}

/// <summary>The training data's format: image folders (one domain each), or CIFAR-10/100 binary files (one class each).</summary>
public enum DataFormat { Folders, Cifar10, Cifar100 }

public sealed record PartitionOptions
{
    /// <summary>iid | domain | dirichlet.</summary>
    public string Kind { get; init; } = "iid";
    public double Alpha { get; init; } = 0.5;
    /// <summary>Images per client; 0 = an equal share of all images.</summary>
    public int SamplesPerClient { get; init; }
}

public sealed record ModelOptions
{
    public string Name { get; init; } = "bmshj2018-hyperprior";
    public int N { get; init; } = 32;
    public int M { get; init; } = 48;
}

public sealed record LossOptions
{
    /// <summary>λ of λ·255²·MSE.</summary>
    public double Lambda { get; init; } = 0.013;
    /// <summary>β of β·(R1 + R2)/P: 0 with float32 transfers is plain U-SFL.</summary>
    public double Beta { get; init; } = 1.0;
}

public sealed record SplitOptions
{
    /// <summary>Layers of g_a on the client (the head).</summary>
    public int Head { get; init; } = 2;
    /// <summary>Index of the first layer of g_s on the client (the tail is g_s[tail:]).</summary>
    public int Tail { get; init; } = 5;
    public FeatureCodecOptions Features { get; init; } = new();
    public GradientCodecOptions Gradients { get; init; } = new();
}

public sealed record FeatureCodecOptions
{
    /// <summary>Split-1 features, client → server: float32 | int8 | entropy | adaptive.</summary>
    public string Uplink { get; init; } = "entropy";
    /// <summary>Split-2 features, server → client: float32 | int8 | entropy | adaptive.</summary>
    public string Downlink { get; init; } = "entropy";
    public double GainInit { get; init; } = 8.0;
}

public sealed record GradientCodecOptions
{
    /// <summary>∂L/∂f̂2, client → server: float32 | float16 | int8 | entropy | topk.</summary>
    public string Uplink { get; init; } = "float32";
    /// <summary>∂L/∂f̂1, server → client.</summary>
    public string Downlink { get; init; } = "float32";
    public double TopkRatio { get; init; } = 0.05;
    /// <summary>Quantization step of the entropy gradient codec, in units of each channel's RMS.</summary>
    public double Step { get; init; } = 1.0;
}

public sealed record OptimizerOptions
{
    public double Lr { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double WeightDecay { get; init; }
}

public sealed record TrainingOptions
{
    /// <summary>sflv1 (a body copy per client, averaged at round end) | sflv2 (one body, clients served in turn).</summary>
    public string Mode { get; init; } = "sflv2";
    public int LocalSteps { get; init; } = 4;
    /// <summary>When positive: local passes over the client's own images instead of a fixed step count (ceil(images × epochs / batch) steps).</summary>
    public double LocalEpochs { get; init; }
    public OptimizerOptions ClientOptimizer { get; init; } = new();
    public OptimizerOptions ServerOptimizer { get; init; } = new();
    public double AuxLr { get; init; } = 1e-3;
    /// <summary>Step decay of both sides' learning rates (PyTorch's MultiStepLR, counted in rounds).</summary>
    public LrScheduleOptions LrSchedule { get; init; } = new();
    /// <summary>noise | ste: how latents and features are quantized in training.</summary>
    public string Quantization { get; init; } = "noise";
    /// <summary>Global gradient-norm clip per side; 0 = off.</summary>
    public double ClipGradNorm { get; init; } = 1.0;
    /// <summary>
    /// Teacher→student distillation inside U-SFL: a trained codec checkpoint held by every client (who holds the image
    /// and the loss); empty = off. The client's distortion term becomes (1 − α)·MSE(x̂, x) + α·MSE(x̂, x̂_teacher).
    /// </summary>
    public string Teacher { get; init; } = "";
    /// <summary>α of <see cref="Teacher"/>, in [0, 1].</summary>
    public double DistillWeight { get; init; } = 0.5;
}

/// <summary>
/// MultiStepLR over rounds: after each milestone round m (rounds 1-based, so round m + 1 on) the client and server
/// learning rates are multiplied by <see cref="Gamma"/>. Empty milestones: a constant learning rate.
/// </summary>
public sealed record LrScheduleOptions
{
    public IReadOnlyList<int> Milestones { get; init; } = [];
    public double Gamma { get; init; } = 0.1;

    /// <summary>The factor on the configured learning rate in <paramref name="round"/> (1-based).</summary>
    public double FactorAt(uint round)
    {
        var f = 1.0;
        foreach (var m in Milestones)
            if (round > m) f *= Gamma;
        return f;
    }
}

public sealed record FederationOptions
{
    /// <summary>Most registered clients a run may have: each gets a data partition, a profile and an actor up front.</summary>
    public const int MaxClients = 1_000_000;

    /// <summary>Registered clients, 1 to <see cref="MaxClients"/>.</summary>
    public int Clients { get; init; } = 4;
    /// <summary>K, the clients whose updates a round keeps.</summary>
    public int ClientsPerRound { get; init; } = 2;
    /// <summary>Extra clients sampled; the first K to finish are kept.</summary>
    public int OverCommit { get; init; }
    public TimeSpan RoundDeadline { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>Glob patterns of client-side parameter names that never leave the client (personalized models).</summary>
    public IReadOnlyList<string> Personal { get; init; } = [];
    /// <summary>
    /// Glob patterns of split-server parameter names kept per client on the server (a personalized entropy model of the
    /// latent, FedLC): never averaged, never sent to the aggregator.
    /// </summary>
    public IReadOnlyList<string> ServerPersonal { get; init; } = [];
    /// <summary>Retransmissions of a lost transfer before the client gives up the round.</summary>
    public int MaxRetries { get; init; } = 3;
    /// <summary>How long a sender waits for the reply to a transfer before retransmitting.</summary>
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How the round's updates become the next global model (fedavg | fedadam).</summary>
    public StrategyOptions Strategy { get; init; } = new();
}

public sealed record StrategyOptions
{
    public string Name { get; init; } = "fedavg";
    public FedAdamOptions FedAdam { get; init; } = new();
}

/// <summary>Server-side Adam of FedAdam: η, β1, β2 and the adaptivity τ (Reddi et al., 2021).</summary>
public sealed record FedAdamOptions
{
    public double Lr { get; init; } = 1e-2;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.99;
    public double Tau { get; init; } = 1e-3;
}

public sealed record ClientPopulationOptions
{
    public IReadOnlyList<ClientProfileOptions> Profiles { get; init; } = [new ClientProfileOptions()];
    /// <summary>Optional on/off availability trace (file path); clients listed there ignore their profile's availability.</summary>
    public string AvailabilityTrace { get; init; } = "";
}

/// <summary>A class of client; each registered client draws a profile (by weight), then its values within the ranges.</summary>
public sealed record ClientProfileOptions
{
    public string Name { get; init; } = "default";
    public double Weight { get; init; } = 1;
    /// <summary>Compute speed factor range [min, max] (1 = the reference device; 2 = twice as fast).</summary>
    public IReadOnlyList<double> Speed { get; init; } = [1, 1];
    public IReadOnlyList<double> UplinkMbps { get; init; } = [20, 20];
    public IReadOnlyList<double> DownlinkMbps { get; init; } = [100, 100];
    public IReadOnlyList<TimeSpan> Latency { get; init; } = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20)];
    /// <summary>Probability that the client is available when sampled in a round.</summary>
    public double Availability { get; init; } = 1;
}

public sealed record RuntimeOptions
{
    /// <summary>virtual | real.</summary>
    public string Clock { get; init; } = "virtual";
    /// <summary>estimated (deterministic: multiply-accumulates / device speed) | measured (wall time × speed factor).</summary>
    public string ComputeTime { get; init; } = "estimated";
    /// <summary>Multiply-accumulates per second of the reference client device (speed factor 1).</summary>
    public double ReferenceMacsPerSecond { get; init; } = 2e10;
    /// <summary>The split server's speed factor relative to the reference device.</summary>
    public double ServerSpeed { get; init; } = 20;
    public double ServerUplinkMbps { get; init; } = 1000;
    public double ServerDownlinkMbps { get; init; } = 1000;
    /// <summary>Serialize every message through its envelope even in process (proves remotability).</summary>
    public bool SerializeMessages { get; init; }
    public bool EventLog { get; init; }
}

public sealed record EvaluationOptions
{
    /// <summary>Evaluate the global codec on real bitstreams at all.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Evaluation folder (never trained on).</summary>
    public string Dataset { get; init; } = "kodak";
    /// <summary>Evaluate every this many rounds (and after the last); 0 = only at the end.</summary>
    public int Every { get; init; }
    /// <summary>Images evaluated; 0 = all.</summary>
    public int Limit { get; init; }
    /// <summary>Report the simulated time at which the evaluated PSNR first reaches this value (dB); 0 = off.</summary>
    public double TargetPsnr { get; init; }
    /// <summary>
    /// Also evaluate each client's codec (global model + its personal parameters) on held-out images of its own
    /// domains; every <see cref="HoldOutEvery"/>-th image of each training folder is then kept out of training.
    /// </summary>
    public bool PerClient { get; init; }
    public int HoldOutEvery { get; init; } = 8;
}
