using System.Diagnostics;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Coding;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Split;

/// <summary>The server's half of one client's step, kept between transfers [2] and [3].</summary>
public sealed class ServerStep(Tensor f1, Tensor f2, Tensor serverLoss) : IDisposable
{
    /// <summary>f̂1 as decoded (a leaf: its gradient is transfer [4]).</summary>
    public Tensor F1 { get; } = f1;
    /// <summary>f̂2's data path, attached to the body's graph.</summary>
    public Tensor F2 { get; } = f2;
    /// <summary>(R_img + β·R2)/P, backpropagated with ∂L/∂f̂2.</summary>
    public Tensor ServerLoss { get; } = serverLoss;
    public void Dispose() { F1.Dispose(); F2.Dispose(); ServerLoss.Dispose(); }
}

/// <summary>Transfer [2] as the server half produced it.</summary>
/// <param name="Features">The encoded split-2 features.</param>
/// <param name="Step">What the backward pass of this step needs (dispose it if the step is dropped).</param>
/// <param name="BppImage">Estimated bits per pixel of ŷ and ẑ.</param>
/// <param name="BppFeatures2">Estimated bits per pixel of the split-2 features (0 without a feature entropy model).</param>
/// <param name="Elements">Values of f̂2 (what a float32 ∂L/∂f̂2 would weigh, for the server's patience).</param>
public sealed record BodyOutput(EncodedTensor Features, ServerStep Step, double BppImage, double BppFeatures2, CodingStats? Stats, long Macs, long Elements);

/// <summary>Transfer [4] as the server half produced it.</summary>
/// <param name="AuxLoss">The entropy bottlenecks' auxiliary loss before its step.</param>
public sealed record BodyBackwardOutput(EncodedTensor Gradient, double AuxLoss, CodingStats? Stats, long Macs);

/// <summary>
/// The split server's half of the U-shaped step for one body: the rest of g_a, the hyperprior, most of g_s and the
/// split-2 feature entropy model, with their optimizers, noise and codecs. <see cref="Body"/> takes transfer [1] and
/// makes [2]; <see cref="BodyBackward"/> takes [3], steps the optimizers and makes [4]. No actor, message or clock
/// in here. SFLv2 runs one over the global body; SFLv1 one per client of the round, over a copy with its own streams.
/// </summary>
public sealed class ServerHalf : IDisposable
{
    private readonly SplitPlan plan;
    private readonly StepSettings s;
    private readonly WallProfile? profile;
    private readonly Generator? ownedNoise;

    public ServerModel Model { get; }
    public Adam Optimizer { get; }
    public Adam Aux { get; }
    public FeatureCodec Downlink { get; }
    public GradientCodec Gradients { get; }
    /// <summary>Samples this body has trained on (SFLv1 weights its average by them).</summary>
    public long Samples { get; private set; }
    /// <summary>The per-client parameters swapped into this body, and their optimizers (FedLC).</summary>
    public ServerPersonalization.Binding? Personal { get; set; }

    /// <param name="ownedNoise">
    /// The noise stream of a body copy, disposed with the model and optimizers; null for the global body, which lives
    /// as long as the server (and whose noise the server replaces every round).
    /// </param>
    public ServerHalf(SplitPlan plan, StepSettings settings, ServerModel model, Adam optimizer, Adam aux, FeatureCodec downlink, GradientCodec gradients,
        Generator? ownedNoise, WallProfile? profile = null)
    {
        this.plan = plan;
        s = settings;
        this.profile = profile;
        this.ownedNoise = ownedNoise;
        Model = model;
        Optimizer = optimizer;
        Aux = aux;
        Downlink = downlink;
        Gradients = gradients;
    }

    /// <summary>MACs of the body's forward pass over <paramref name="batch"/> images of <paramref name="size"/>² pixels.</summary>
    public long BodyMacs(long batch, long size) =>
        CodecLayers.Macs(true, plan.Head, CodecLayers.TransformLayers, plan.N, plan.M, batch, size, size)
        + CodecLayers.HyperMacs(plan.IsHyperprior, plan.N, plan.M, batch, size, size)
        + CodecLayers.Macs(false, 0, plan.Tail, plan.N, plan.M, batch, size, size);

    /// <summary>
    /// Transfer [1] → [2]: decodes f̂1 (<paramref name="tables"/>: the client's split-1 tables by version), runs the body
    /// and encodes f2. <paramref name="pixels"/> is P of the loss as the client sent it. Malformed features throw
    /// <see cref="InvalidDataException"/> naming <paramref name="what"/>.
    /// </summary>
    public BodyOutput Body(EncodedTensor features1, Func<ulong, FrozenFeatureTables?> tables, double pixels, Device device, string what)
    {
        var lap = Stopwatch.GetTimestamp();
        using var scope = DisposeScope.Open();
        var f1 = FeatureCodec.Decode(features1, tables, what).to(device);
        f1.requires_grad_();
        profile?.Lap(ProfilePart.FeatureDecode, ref lap);
        var (f2, likelihoods) = Model.body(f1);
        var rImg = likelihoods.Values.Select(l => l.log2().sum().neg()).Aggregate((a, b) => a + b);
        profile?.Lap(ProfilePart.ServerForward, ref lap);
        var enc = Downlink.Encode(f2, training: true); // profiled by the codec
        lap = Stopwatch.GetTimestamp();
        var serverLoss = enc.Bits is not null && s.Beta > 0 ? (rImg + enc.Bits * s.Beta) / pixels : rImg / pixels;
        var bppImage = rImg.item() / pixels;
        var bppFeatures2 = (enc.Bits?.item() ?? 0) / pixels;
        profile?.Lap(ProfilePart.ServerForward, ref lap);
        var step = new ServerStep(f1.DetachFromDisposeScope(), enc.DataPath.DetachFromDisposeScope(), serverLoss.DetachFromDisposeScope());
        var batch = f1.size(0);
        var size = (long)Math.Sqrt(pixels / batch);
        return new BodyOutput(enc.Wire, step, bppImage, bppFeatures2, enc.Stats, BodyMacs(batch, size), enc.DataPath.numel());
    }

    /// <summary>
    /// Transfer [3] → [4]: backpropagates ∂L/∂f̂2 and the server's rate terms through the body, clips, steps the
    /// optimizers (and the per-client ones of <see cref="Personal"/>), steps the auxiliary loss and encodes ∂L/∂f̂1.
    /// A malformed gradient throws <see cref="InvalidDataException"/> naming <paramref name="what"/> before anything changes.
    /// </summary>
    public BodyBackwardOutput BodyBackward(ServerStep p, EncodedTensor gradient2, string what)
    {
        var lap = Stopwatch.GetTimestamp();
        using var scope = DisposeScope.Open();
        var g2 = GradientCodec.Decode(gradient2, what).to(p.F2.device);
        profile?.Lap(ProfilePart.GradientDecode, ref lap);
        autograd.backward([p.F2, p.ServerLoss], [g2, null]);
        profile?.Lap(ProfilePart.ServerBackward, ref lap);
        var g1 = p.F1.grad ?? throw new InvalidOperationException("no gradient reached the split-1 features");
        if (s.ClipGradNorm > 0) GradClip.clip_grad_norm_(Model.main_parameters(), s.ClipGradNorm);
        Optimizer.step();
        Optimizer.zero_grad();
        Personal?.Main.step();
        Personal?.Main.zero_grad();
        var aux = Model.aux_loss();
        var auxValue = aux.item();
        aux.backward();
        Aux.step();
        Aux.zero_grad();
        Personal?.Aux?.step();
        Personal?.Aux?.zero_grad();
        profile?.Lap(ProfilePart.ServerOptimizer, ref lap);
        var wire = Gradients.Encode(g1);
        var batch = p.F1.size(0);
        Samples += batch;
        return new BodyBackwardOutput(wire, auxValue, Gradients.LastStats, 2 * BodyMacs(batch, s.Crop));
    }

    public void Dispose()
    {
        if (ownedNoise is null) return; // the global body lives as long as the server
        Model.Dispose(); Optimizer.Dispose(); Aux.Dispose(); ownedNoise.Dispose();
    }
}
