using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Models.Codecs;

#pragma warning disable CS8981, IDE1006

/// <summary>x̂ and the likelihoods of each latent ("y", and "z" for hyperprior models).</summary>
public sealed record ForwardResult(Tensor XHat, IReadOnlyDictionary<string, Tensor> Likelihoods)
{
    /// <summary>ŷ, the quantized (training: noisy) latent g_s decodes: what a task head on the decoder side sees.</summary>
    public Tensor? YHat { get; init; }
}

/// <summary>The output of the entropy stage between g_a and g_s: ŷ and the latents' likelihoods.</summary>
public sealed record LatentResult(Tensor YHat, IReadOnlyDictionary<string, Tensor> Likelihoods);

/// <summary>Bitstreams of one batch: strings[latent][batch element], plus the latent's spatial size.</summary>
public sealed record CompressedStrings(IReadOnlyList<byte[][]> Strings, long LatentHeight, long LatentWidth)
{
    /// <summary>
    /// The ŷ channels the strings code, ascending (a truncated latent: the others are 0 and cost no bits, see
    /// <see cref="CompressionModel.compress(Tensor, int[])"/>); null: all M.
    /// </summary>
    public int[]? Kept { get; init; }
}

/// <summary>
/// A learned image codec as CompressAI's CompressionModel: analysis transform g_a, synthesis transform g_s (both
/// <see cref="Sequential"/>, so split learning can cut them at any layer boundary), and an entropy stage between.
/// </summary>
public abstract class CompressionModel : Module
{
    public readonly Sequential g_a, g_s;
    public readonly EntropyBottleneck entropy_bottleneck;
    public long N { get; }
    public long M { get; }
    /// <summary>Registry name, e.g. <c>bmshj2018-hyperprior</c>.</summary>
    public abstract string Name { get; }
    /// <summary>Total down-sampling factor of the model (64 for hyperprior models: 16 for g_a × 4 for h_a).</summary>
    public virtual int DownsamplingFactor => 16;

    /// <summary>
    /// Estimated peak bytes per image pixel of <see cref="compress"/>/<see cref="decompress"/> on the CPU: the widest
    /// activation (N channels at half resolution, float32: N bytes a pixel) held about three times (input, output and
    /// GDN's temporary) plus the image as float32 twice. What the CLI checks a claimed image size against before coding.
    /// </summary>
    public long CodingBytesPerPixel => 3 * N + 24;

    /// <summary>
    /// Whether strings of <paramref name="latentHeight"/> × <paramref name="latentWidth"/> are those of a
    /// <paramref name="width"/> × <paramref name="height"/> image under this model (the image padded to a multiple
    /// of <see cref="DownsamplingFactor"/>): checked before anything is decoded.
    /// </summary>
    public bool LatentFits(long height, long width, long latentHeight, long latentWidth) =>
        latentHeight == (height + DownsamplingFactor - 1) / DownsamplingFactor && latentWidth == (width + DownsamplingFactor - 1) / DownsamplingFactor;

    protected CompressionModel(long n, long m, long ebChannels, Generator? g)
        : this(n, m, ebChannels, CodecLayers.AnalysisTransform(n, m, g), CodecLayers.SynthesisTransform(n, m, g), g) { }

    /// <summary>A codec with its own transforms (e.g. with attention or residual blocks).</summary>
    protected CompressionModel(long n, long m, long ebChannels, Sequential analysis, Sequential synthesis, Generator? g)
    {
        (N, M) = (n, m);
        g_a = RegisterModule("g_a", analysis);
        g_s = RegisterModule("g_s", synthesis);
        entropy_bottleneck = RegisterModule("entropy_bottleneck", new EntropyBottleneck(ebChannels, generator: g));
    }

    /// <summary>
    /// Where the stages of g_a end (exclusive layer indices): after them the map is at 1/2, 1/4 and 1/8 of the image
    /// with N channels. Feature distillation aligns a student's stage outputs with a teacher's.
    /// </summary>
    public virtual int[] AnalysisStageEnds => [2, 4, 6];

    /// <summary>Where the stages of g_s end: after them the map is at 1/8, 1/4 and 1/2 of the image with N channels.</summary>
    public virtual int[] SynthesisStageEnds => [2, 4, 6];

    /// <summary>The output of each stage of <paramref name="seq"/> (ending at <paramref name="ends"/>) and the final output.</summary>
    public static (List<Tensor> Stages, Tensor Output) Stages(Sequential seq, Tensor x, int[] ends)
    {
        var stages = new List<Tensor>();
        var from = 0;
        foreach (var end in ends)
        {
            x = seq.forward_range(x, from, end);
            stages.Add(x);
            from = end;
        }
        return (stages, seq.forward_range(x, from, seq.Count));
    }

    /// <summary>All entropy models of this codec (their noise generators and quantization modes are set together).</summary>
    public virtual IEnumerable<EntropyModel> EntropyModels() => [entropy_bottleneck];

    public Generator? NoiseGenerator
    {
        set { foreach (var e in EntropyModels()) e.NoiseGenerator = value; }
    }

    public TrainingQuantization TrainingQuantization
    {
        set { foreach (var e in EntropyModels()) e.TrainingQuantization = value; }
    }

    /// <summary>ŷ and likelihoods from y: the part between g_a and g_s (the split server's core).</summary>
    public abstract LatentResult latent_forward(Tensor y);

    /// <summary>
    /// The rounding of the split features a CoF U-SFL codec was trained with, applied at inference so the codec runs
    /// as it was trained (null: the transforms without it, as trained by plain U-SFL or <c>codec train</c>).
    /// </summary>
    public SplitQuantization? Split { get; set; }

    /// <summary>y = g_a(x), with the split-1 rounding of <see cref="Split"/> if set.</summary>
    public Tensor analysis(Tensor x) => Split is { Gain1: { } g1 } s
        ? g_a.forward_range(SplitQuantization.Round(g_a.forward_range(x, 0, s.Head), g1), s.Head, CodecLayers.TransformLayers)
        : g_a.forward(x);

    /// <summary>x̂ = g_s(ŷ), with the split-2 rounding of <see cref="Split"/> if set.</summary>
    public Tensor synthesis(Tensor yHat) => Split is { Gain2: { } g2 } s
        ? g_s.forward_range(SplitQuantization.Round(g_s.forward_range(yHat, 0, s.Tail), g2), s.Tail, CodecLayers.TransformLayers)
        : g_s.forward(yHat);

    public ForwardResult forward(Tensor x)
    {
        var y = analysis(x);
        var latent = latent_forward(y);
        return new ForwardResult(synthesis(latent.YHat), latent.Likelihoods) { YHat = latent.YHat };
    }

    /// <summary>
    /// Multiply-accumulates of one forward pass over a B×3×H×W batch: both transforms (Ballé's layers) and the
    /// hyperprior's, for the simulated compute time of a client that runs this codec as a distillation teacher.
    /// </summary>
    public virtual long ForwardMacs(long batch, long height, long width) =>
        CodecLayers.Macs(true, 0, CodecLayers.TransformLayers, N, M, batch, height, width)
        + CodecLayers.Macs(false, 0, CodecLayers.TransformLayers, N, M, batch, height, width)
        + CodecLayers.HyperMacs(this is not Bmshj2018Factorized, N, M, batch, height, width);

    /// <summary>Sum of the entropy bottlenecks' quantile losses (optimized by the separate aux optimizer).</summary>
    public Tensor aux_loss() => entropy_bottleneck.loss();

    /// <summary>Rebuilds every CDF table from the current parameters (call after training or loading weights).</summary>
    public virtual void update()
    {
        foreach (var e in EntropyModels())
            switch (e)
            {
                case EntropyBottleneck eb: eb.update(); break;
                case GaussianConditional gc: gc.update(); break;
            }
    }

    /// <summary>Parameters except the entropy bottlenecks' quantiles (main optimizer) — CompressAI's split.</summary>
    public IEnumerable<Tensor> main_parameters() => named_parameters().Where(p => !p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter);

    /// <summary>The quantiles (aux optimizer).</summary>
    public IEnumerable<Tensor> aux_parameters() => named_parameters().Where(p => p.name.EndsWith("quantiles", StringComparison.Ordinal)).Select(p => p.parameter);

    /// <summary>Entropy-codes y = g_a(x) (and z): real rANS strings.</summary>
    public abstract CompressedStrings compress_latent(Tensor y);

    /// <summary>ŷ from strings (bit-exact with the eval-mode forward's ŷ).</summary>
    public abstract Tensor decompress_latent(CompressedStrings strings);

    public CompressedStrings compress(Tensor x)
    {
        using var scope = DisposeScope.Open();
        using var ng = torch.no_grad();
        return compress_latent(analysis(x));
    }

    /// <summary>
    /// Entropy-codes y = g_a(x) truncated to the channels <paramref name="kept"/> (ascending, distinct, &lt; M): the
    /// others are set to 0 before the hyperprior sees y and are not coded at all, so one deployed encoder serves
    /// several rates. The strings carry <see cref="CompressedStrings.Kept"/>; <see cref="decompress"/> restores the
    /// dropped channels as 0. Models whose latent is coded under a Gaussian conditional only (the tables do not depend
    /// on the channel); the factorized model refuses it.
    /// </summary>
    public CompressedStrings compress(Tensor x, int[] kept)
    {
        using var scope = DisposeScope.Open();
        using var ng = torch.no_grad();
        return compress_latent(analysis(x), kept);
    }

    /// <summary>Truncated coding of y (see <see cref="compress(Tensor, int[])"/>).</summary>
    public virtual CompressedStrings compress_latent(Tensor y, int[] kept) =>
        throw new NotSupportedException($"{Name}: channel truncation needs a latent coded under a Gaussian conditional (bmshj2018-hyperprior, mbt2018-mean); the factorized prior's tables are per channel");

    /// <summary>Checks a list of kept ŷ channels (ascending, distinct, in [0, M), at least one), naming what is wrong.</summary>
    public void CheckKept(IReadOnlyList<int> kept)
    {
        if (kept.Count == 0) throw new ArgumentException($"{Name}: a truncated latent keeps at least one of its {M} channels");
        for (var i = 0; i < kept.Count; i++)
            if (kept[i] < 0 || kept[i] >= M || (i > 0 && kept[i] <= kept[i - 1]))
                throw new ArgumentException($"{Name}: kept channels must be ascending, distinct and in [0, {M}); got {kept[i]} at position {i}");
    }

    /// <summary>[1, M, 1, 1]: 1 for the kept channels, 0 for the others.</summary>
    protected Tensor KeptMask(int[] kept, Device device)
    {
        var m = new float[M];
        foreach (var c in kept) m[c] = 1;
        return torch.from_array(m, 1, M, 1, 1).to(device);
    }

    protected static Tensor KeptIndex(int[] kept, Device device) => torch.from_array(kept.Select(c => (long)c).ToArray(), kept.Length).to(device);

    /// <summary>[B, M, h, w] from the kept channels [B, K, h, w]: the dropped channels are 0.</summary>
    protected Tensor ExpandKept(Tensor yKept, int[] kept)
    {
        var inverse = Enumerable.Repeat((long)kept.Length, (int)M).ToArray(); // the appended zero channel
        for (var i = 0; i < kept.Length; i++) inverse[kept[i]] = i;
        var zero = torch.zeros([yKept.size(0), 1, yKept.size(2), yKept.size(3)]).to(yKept.device);
        return torch.cat([yKept, zero], 1).index_select(1, torch.from_array(inverse, inverse.Length).to(yKept.device));
    }

    public Tensor decompress(CompressedStrings strings)
    {
        using var scope = DisposeScope.Open();
        using var ng = torch.no_grad();
        var yHat = decompress_latent(strings);
        return synthesis(yHat).clamp(0, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// CoF U-SFL's rounding of the split features: f̂ = round(f·gain)/gain per channel after g_a's first <paramref name="Head"/>
/// layers (<paramref name="Gain1"/>) and after g_s's first <paramref name="Tail"/> layers (<paramref name="Gain2"/>); a null
/// gain leaves that split unrounded (float32 transfers). The adaptive feature codec's quantizer.
/// </summary>
public sealed record SplitQuantization(int Head, float[]? Gain1, int Tail, float[]? Gain2)
{
    public static Tensor Round(Tensor f, float[] gain)
    {
        if (f.size(1) != gain.Length) throw new ArgumentException($"split quantization: {gain.Length} gains for {f.size(1)} channels");
        var g = torch.from_array(gain, 1, gain.Length, 1, 1).to(f.device);
        return (f * g).round() / g;
    }
}

/// <summary>The transforms shared by Ballé/Minnen models (CompressAI's layer ordering and names).</summary>
public static class CodecLayers
{
    /// <summary>Layers of g_a: conv, GDN, conv, GDN, conv, GDN, conv (indices 0–6).</summary>
    public static Module<Tensor, Tensor>[] AnalysisLayers(long n, long m, Generator? g) =>
    [
        Layers.Conv.conv(3, n, g: g), new Layers.GDN(n),
        Layers.Conv.conv(n, n, g: g), new Layers.GDN(n),
        Layers.Conv.conv(n, n, g: g), new Layers.GDN(n),
        Layers.Conv.conv(n, m, g: g),
    ];

    /// <summary>Layers of g_s: deconv, IGDN, deconv, IGDN, deconv, IGDN, deconv (indices 0–6).</summary>
    public static Module<Tensor, Tensor>[] SynthesisLayers(long n, long m, Generator? g) =>
    [
        Layers.Conv.deconv(m, n, g: g), new Layers.GDN(n, inverse: true),
        Layers.Conv.deconv(n, n, g: g), new Layers.GDN(n, inverse: true),
        Layers.Conv.deconv(n, n, g: g), new Layers.GDN(n, inverse: true),
        Layers.Conv.deconv(n, 3, g: g),
    ];

    public const int TransformLayers = 7;

    public static Sequential AnalysisTransform(long n, long m, Generator? g) => new(AnalysisLayers(n, m, g));
    public static Sequential SynthesisTransform(long n, long m, Generator? g) => new(SynthesisLayers(n, m, g));

    /// <summary>Channels of g_a's output after its first <paramref name="layers"/> layers.</summary>
    public static long AnalysisChannels(int layers, long n, long m) => layers >= TransformLayers ? m : n;

    /// <summary>Channels of g_s's input at layer <paramref name="index"/>.</summary>
    public static long SynthesisChannels(int index, long n, long m) => index == 0 ? m : n;

    /// <summary>Multiply-accumulates of layers [from, to) of g_a (analysis) or g_s on a B×3×H×W image.</summary>
    public static long Macs(bool analysis, int from, int to, long n, long m, long batch, long height, long width)
    {
        long macs = 0;
        for (var i = from; i < to; i++)
        {
            // Spatial size at the layer's output: g_a halves at each conv (even index), g_s doubles.
            var stage = analysis ? i / 2 + 1 : 4 - (i / 2 + 1);
            var h = height >> stage;
            var w = width >> stage;
            long cin, cout;
            if (analysis) { cin = i == 0 ? 3 : n; cout = i == 6 ? m : n; }
            else { cin = i == 0 ? m : n; cout = i == 6 ? 3 : n; }
            if (i % 2 == 0) macs += analysis ? cin * cout * 25 * h * w : cin * cout * 25 * h * w / 4; // a deconv's MACs follow its input size
            else macs += n * n * h * w + 2 * n * h * w;         // GDN: 1×1 conv of x² plus the scaling
        }
        return macs * batch;
    }

    /// <summary>Multiply-accumulates of the hyperprior transforms h_a and h_s (0 for a factorized model).</summary>
    public static long HyperMacs(bool hyper, long n, long m, long batch, long height, long width)
    {
        if (!hyper) return 0;
        long p16 = (height >> 4) * (width >> 4), p32 = p16 / 4, p64 = p16 / 16;
        var ha = m * n * 9 * p16 + n * n * 25 * p32 + n * n * 25 * p64;
        var hs = n * n * 25 * p64 + n * m * 25 * p32 + m * m * 2 * 9 * p16;
        return (ha + hs) * batch;
    }
}
