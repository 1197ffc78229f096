using System.Diagnostics;
using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Coding;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;

namespace CoFUsfl.Simulation.Split;

/// <summary>Transfer [1] as the client half produced it.</summary>
/// <param name="Features">The encoded split-1 features (the message's payload).</param>
/// <param name="Stats">What the entropy coder wrote (null for codecs without one).</param>
/// <param name="Macs">Multiply–accumulates of the head's forward pass (the simulated compute time).</param>
public sealed record HeadOutput(EncodedTensor Features, CodingStats? Stats, long Macs);

/// <summary>Transfer [3] as the client half produced it, with the step's distortion.</summary>
/// <param name="Gradient">The encoded ∂L/∂f̂2.</param>
/// <param name="Mse">MSE(x, x̂) of images in [0, 1].</param>
/// <param name="DistortionTerm">λ·255²·MSE, the client's part of the loss.</param>
public sealed record TailOutput(EncodedTensor Gradient, double Mse, double DistortionTerm, CodingStats? Stats, long Macs);

/// <summary>The end of the client's step: the split-1 features' rate (null without a feature entropy model).</summary>
/// <param name="BppFeatures1">Estimated bits per pixel of the split-1 features.</param>
/// <param name="RateTerm">β·R1/P, the part of the loss the head's rate adds.</param>
public sealed record HeadBackwardOutput(double? BppFeatures1, double RateTerm, long Macs);

/// <summary>
/// The client's half of the U-shaped step, for one round: the head g_a[0:head], the tail g_s[tail:], the split-1
/// feature entropy model, their optimizers, noise and codecs. One method per transfer: <see cref="Head"/> makes
/// [1]; <see cref="Tail"/> takes [2], computes the distortion and makes [3]; <see cref="HeadBackward"/> takes [4]
/// and steps the optimizers. No actor, message or clock in here: the client actor adds the protocol around it, and
/// specs and <c>bench step</c> drive it directly.
/// </summary>
public sealed class ClientHalf : IDisposable
{
    private readonly SplitPlan plan;
    private readonly StepSettings s;
    private readonly WallProfile? profile;
    private readonly Generator noise;
    // The step's graph: input, the split-1 data path, its rate estimate; the teacher's reconstruction of the input.
    private Tensor? x, f1, bits1, teacherXHat;
    // Shared by every client (eval mode, no gradient): not disposed here.
    private readonly CompressionModel? teacher;

    public ClientModel Model { get; }
    public Adam Optimizer { get; }
    public Adam? AuxOptimizer { get; }
    public FeatureCodec Uplink { get; }
    public GradientCodec GradientUplink { get; }
    /// <summary>The split-1 tables frozen for this round (learned density), null otherwise.</summary>
    public FrozenFeatureTables? Tables { get; }

    /// <param name="global">The global head/tail of the round.</param>
    /// <param name="personal">This client's personal parameters, copied over the global ones (null: none yet).</param>
    /// <param name="noiseSeed">The round's noise stream (training quantization, rate estimates).</param>
    /// <param name="gradientSeed">The stream of the gradient codec's stochastic rounding.</param>
    public ClientHalf(SplitPlan plan, StepSettings settings, ParameterSet global, ParameterSet? personal, OptimizerOptions optimizer, double lr,
        Device device, ulong noiseSeed, ulong gradientSeed, WallProfile? profile = null, CompressionModel? teacher = null)
    {
        this.plan = plan;
        this.teacher = teacher;
        s = settings;
        this.profile = profile;
        using var scope = DisposeScope.Open();
        noise = new Generator(noiseSeed, device);
        Model = new ClientModel(plan, s.UplinkDensity, s.GainInit, null);
        global.CopyInto(Model.named_parameters());
        personal?.CopyInto(Model.named_parameters());
        Model.to(device);
        if (Model.feature1?.entropy_bottleneck is { } eb)
        {
            eb.NoiseGenerator = noise;
            eb.TrainingQuantization = s.Quantization;
        }
        var main = Model.named_parameters().Where(p => !p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        var aux = Model.named_parameters().Where(p => p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        Optimizer = new Adam(main, lr, optimizer.Beta1, optimizer.Beta2, weightDecay: optimizer.WeightDecay);
        if (aux.Count > 0) AuxOptimizer = new Adam(aux, s.AuxLr);
        Uplink = FeatureCodec.Create(s.FeaturesUplink, Model.feature1);
        if (Uplink is AdaptiveFeatures af)
        {
            af.Noise = noise;
            af.NoiseQuantization = s.NoiseQuantization;
        }
        GradientUplink = GradientCodec.Create(s.GradientsUplink, s.TopkRatio, new Random((int)gradientSeed), s.GradientStep);
        Uplink.Profile = GradientUplink.Profile = profile;
        if (Uplink is EntropyFeatures ef) Tables = ef.Tables = Model.feature1!.Freeze();
    }

    /// <summary>MACs of the head's forward pass over one batch (and of the distillation teacher's forward pass, if any).</summary>
    public long HeadMacs => CodecLayers.Macs(true, 0, plan.Head, plan.N, plan.M, s.BatchSize, s.Crop, s.Crop)
                            + (teacher?.ForwardMacs(s.BatchSize, s.Crop, s.Crop) ?? 0);

    /// <summary>MACs of the tail's forward and backward passes over one batch.</summary>
    public long TailMacs => 3 * CodecLayers.Macs(false, plan.Tail, CodecLayers.TransformLayers, plan.N, plan.M, s.BatchSize, s.Crop, s.Crop);

    /// <summary>The head over a batch <paramref name="batch"/> ([B, 3, H, W] in [0, 1], kept until the step ends): transfer [1].</summary>
    public HeadOutput Head(Tensor batch)
    {
        ClearStep();
        var lap = Stopwatch.GetTimestamp();
        using var scope = DisposeScope.Open();
        x = batch.DetachFromDisposeScope();
        if (teacher is not null)
            using (torch.no_grad()) teacherXHat = teacher.forward(x).XHat.clamp(0, 1).DetachFromDisposeScope();
        var f = Model.g_a.forward(x);
        profile?.Lap(ProfilePart.ClientForward, ref lap);
        var enc = Uplink.Encode(f, training: true); // profiled by the codec
        f1 = enc.DataPath.DetachFromDisposeScope();
        bits1 = enc.Bits?.DetachFromDisposeScope();
        return new HeadOutput(enc.Wire, enc.Stats, HeadMacs);
    }

    /// <summary>
    /// Transfer [2] → [3]: decodes f̂2 (<paramref name="tables"/>: the server's split-2 tables by version), runs the tail,
    /// backpropagates λ·255²·MSE to f̂2 and encodes that gradient. Malformed features throw <see cref="InvalidDataException"/>
    /// naming <paramref name="what"/>.
    /// </summary>
    public TailOutput Tail(EncodedTensor features2, Func<ulong, FrozenFeatureTables?> tables, string what)
    {
        if (x is null) throw new InvalidOperationException("the tail runs after the head of the same step");
        var lap = Stopwatch.GetTimestamp();
        using var scope = DisposeScope.Open();
        var f2 = FeatureCodec.Decode(features2, tables, what).to(x.device).requires_grad_();
        profile?.Lap(ProfilePart.FeatureDecode, ref lap);
        var xHat = Model.g_s.forward(f2);
        var mse = F.mse_loss(xHat, x);
        var distortion = Models.Losses.RateDistortion.DistortionTerm(
            teacherXHat is null ? mse : mse * (1 - s.DistillWeight) + F.mse_loss(xHat, teacherXHat) * s.DistillWeight, s.Lambda);
        profile?.Lap(ProfilePart.ClientForward, ref lap);
        distortion.backward();
        profile?.Lap(ProfilePart.ClientBackward, ref lap);
        var g2 = f2.grad ?? throw new InvalidOperationException("no gradient reached the split-2 features");
        var mseValue = mse.item();
        var distortionValue = distortion.item();
        var wire = GradientUplink.Encode(g2);
        return new TailOutput(wire, mseValue, distortionValue, GradientUplink.LastStats, TailMacs);
    }

    /// <summary>
    /// Takes back the tail's part of the step (its parameter gradients), for a step that is redone from transfer [1]
    /// because the server lost it.
    /// </summary>
    public void RetakeTail() => Optimizer.zero_grad();

    /// <summary>
    /// Transfer [4]: backpropagates ∂L/∂f̂1 (plus β·R1/P) through the head, clips, steps the optimizers and the
    /// entropy bottleneck's auxiliary loss, and ends the step.
    /// </summary>
    public HeadBackwardOutput HeadBackward(EncodedTensor gradient1, string what)
    {
        if (f1 is null) throw new InvalidOperationException("the head's backward pass runs after the head of the same step");
        double? bpp = null;
        double rateTerm = 0;
        using (var scope = DisposeScope.Open())
        {
            var lap = Stopwatch.GetTimestamp();
            var g1 = GradientCodec.Decode(gradient1, what).to(f1.device);
            profile?.Lap(ProfilePart.GradientDecode, ref lap);
            if (bits1 is not null && s.Beta > 0)
            {
                var rate = bits1 * (s.Beta / s.Pixels);
                autograd.backward([f1, rate], [g1, null]);
            }
            else autograd.backward([f1], [g1]);
            profile?.Lap(ProfilePart.ClientBackward, ref lap);
            if (bits1 is not null)
            {
                bpp = bits1.item() / s.Pixels;
                rateTerm = s.Beta * bpp.Value;
            }
            if (s.ClipGradNorm > 0) GradClip.clip_grad_norm_(Model.parameters_(), s.ClipGradNorm);
            Optimizer.step();
            Optimizer.zero_grad();
            if (AuxOptimizer is not null && Model.feature1?.entropy_bottleneck is { } eb)
            {
                eb.loss().backward();
                AuxOptimizer.step();
                AuxOptimizer.zero_grad();
            }
            profile?.Lap(ProfilePart.ClientOptimizer, ref lap);
        }
        ClearStep();
        return new HeadBackwardOutput(bpp, rateTerm, 2 * HeadMacs);
    }

    private void ClearStep()
    {
        x?.Dispose(); f1?.Dispose(); bits1?.Dispose(); teacherXHat?.Dispose();
        x = f1 = bits1 = teacherXHat = null;
    }

    public void Dispose()
    {
        ClearStep();
        Model.Dispose();
        Optimizer.Dispose();
        AuxOptimizer?.Dispose();
        noise.Dispose();
    }
}
