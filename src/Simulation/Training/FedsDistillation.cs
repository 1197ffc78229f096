using CoFUsfl.Models.Codecs;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Simulation.Training;

#pragma warning disable CS8981, IDE1006

/// <summary>
/// FEDS (feature- and entropy-based distillation, arXiv 2503.06399) in three stages over <c>codec-training.steps</c>:
/// steps 1…<see cref="FeatureSteps"/> align the student's intermediate features with the teacher's; the next
/// <see cref="ChannelSteps"/> distil the latent channel by channel, weighted by the teacher's rate of each channel;
/// the rest fine-tune on the rate–distortion loss alone. Off while both step counts are 0; needs
/// <c>codec-training.teacher</c>.
/// </summary>
public sealed record FedsOptions
{
    public int FeatureSteps { get; init; }
    public int ChannelSteps { get; init; }
    /// <summary>Weight of the feature-alignment loss (stage 1).</summary>
    public double FeatureWeight { get; init; } = 1;
    /// <summary>Weight of the entropy-weighted channel loss (stage 2).</summary>
    public double ChannelWeight { get; init; } = 1;

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Enabled => FeatureSteps + ChannelSteps > 0;

    /// <summary>1: feature alignment, 2: channel-level distillation, 3: fine-tuning (steps are 1-based).</summary>
    public int StageAt(int step) => step <= FeatureSteps ? 1 : step <= FeatureSteps + ChannelSteps ? 2 : 3;
}

/// <summary>
/// The 1×1 adapters that map the student's widths onto the teacher's (one per aligned stage of g_a and g_s, one for
/// the latent y), trained with the student and thrown away after; and FEDS's two losses.
/// </summary>
public sealed class FedsAdapters : Module
{
    private readonly List<Conv2d> analysis = [], synthesis = [];
    public readonly Conv2d latent;

    public FedsAdapters(CompressionModel student, CompressionModel teacher, Generator? g = null)
    {
        Check(student, teacher);
        for (var i = 0; i < student.AnalysisStageEnds.Length; i++)
            analysis.Add(RegisterModule($"analysis_{i}", Models.Layers.Conv.conv(student.N, teacher.N, 1, 1, g)));
        for (var i = 0; i < student.SynthesisStageEnds.Length; i++)
            synthesis.Add(RegisterModule($"synthesis_{i}", Models.Layers.Conv.conv(student.N, teacher.N, 1, 1, g)));
        latent = RegisterModule("latent", Models.Layers.Conv.conv(student.M, teacher.M, 1, 1, g));
    }

    /// <summary>Whether a teacher can teach a student (same down-sampling and number of stages), naming the key when not.</summary>
    public static void Check(CompressionModel student, CompressionModel teacher)
    {
        if (teacher.DownsamplingFactor != student.DownsamplingFactor)
            throw new ArgumentException($"cofusfl.codec-training.teacher: {teacher.Name} (down-sampling {teacher.DownsamplingFactor}) cannot teach {student.Name} " +
                                        $"(down-sampling {student.DownsamplingFactor}) feature by feature: their latents have different sizes");
        if (teacher.AnalysisStageEnds.Length != student.AnalysisStageEnds.Length || teacher.SynthesisStageEnds.Length != student.SynthesisStageEnds.Length)
            throw new ArgumentException($"cofusfl.codec-training.teacher: {teacher.Name} has {teacher.AnalysisStageEnds.Length} + {teacher.SynthesisStageEnds.Length} stages, " +
                                        $"{student.Name} {student.AnalysisStageEnds.Length} + {student.SynthesisStageEnds.Length}: no stage-to-stage alignment");
    }

    /// <summary>Every intermediate map of a codec's forward pass (training mode of the codec as it is).</summary>
    public sealed record Pass(List<Tensor> Analysis, Tensor Y, LatentResult Latent, List<Tensor> Synthesis, Tensor XHat);

    public static Pass Run(CompressionModel codec, Tensor x)
    {
        var (a, y) = CompressionModel.Stages(codec.g_a, x, codec.AnalysisStageEnds);
        var latent = codec.latent_forward(y);
        var (s, xHat) = CompressionModel.Stages(codec.g_s, latent.YHat, codec.SynthesisStageEnds);
        return new Pass(a, y, latent, s, xHat);
    }

    /// <summary>MSE of a student map through an adapter against the teacher's, relative to the teacher map's mean square (scale-free).</summary>
    private static Tensor Relative(Tensor adapted, Tensor target)
    {
        if (!adapted.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"FEDS: a student map of shape [{string.Join(", ", adapted.shape)}] cannot be aligned with the teacher's [{string.Join(", ", target.shape)}]");
        return F.mse_loss(adapted, target) / (target.square().mean() + 1e-9);
    }

    /// <summary>Stage 1: mean relative MSE over the aligned stages of g_a and g_s.</summary>
    public Tensor FeatureLoss(Pass student, Pass teacher)
    {
        var terms = new List<Tensor>();
        for (var i = 0; i < analysis.Count; i++) terms.Add(Relative(analysis[i].forward(student.Analysis[i]), teacher.Analysis[i]));
        for (var i = 0; i < synthesis.Count; i++) terms.Add(Relative(synthesis[i].forward(student.Synthesis[i]), teacher.Synthesis[i]));
        return terms.Aggregate((p, q) => p + q) / terms.Count;
    }

    /// <summary>
    /// The weight of each latent channel: its share of the teacher's bits on this batch (−log2 of the teacher's
    /// likelihoods of ŷ, summed per channel), so the channels that carry the most information are taught most. Sums to 1.
    /// </summary>
    public static Tensor ChannelWeights(Tensor teacherLikelihoodsY)
    {
        using var ng = torch.no_grad();
        var bits = teacherLikelihoodsY.log2().neg().sum([0, 2, 3]);
        return (bits / (bits.sum() + 1e-9)).detach();
    }

    /// <summary>Stage 2: Σ_c w_c · MSE_c(adapter(y_student), y_teacher) / mean(y_teacher²), w from <see cref="ChannelWeights"/>.</summary>
    public Tensor ChannelLoss(Pass student, Pass teacher)
    {
        var adapted = latent.forward(student.Y);
        if (!adapted.shape.SequenceEqual(teacher.Y.shape))
            throw new ArgumentException($"FEDS: the student's latent [{string.Join(", ", adapted.shape)}] cannot be aligned with the teacher's [{string.Join(", ", teacher.Y.shape)}]");
        var perChannel = (adapted - teacher.Y).square().mean([0, 2, 3]);
        var w = ChannelWeights(teacher.Latent.Likelihoods["y"]);
        return (perChannel * w).sum() / (teacher.Y.square().mean() + 1e-9);
    }
}
