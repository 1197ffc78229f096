using CoFUsfl.Models.EntropyModels;
using CoFUsfl.Models.Layers;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Models.Codecs;

#pragma warning disable CS8981, IDE1006

/// <summary>Ballé et al. 2018, factorized prior (CompressAI <c>bmshj2018-factorized</c>).</summary>
public sealed class Bmshj2018Factorized(long n = 128, long m = 192, Generator? g = null) : CompressionModel(n, m, m, g)
{
    public override string Name => "bmshj2018-factorized";

    public override LatentResult latent_forward(Tensor y)
    {
        var (yHat, lik) = entropy_bottleneck.forward(y);
        return new LatentResult(yHat, new Dictionary<string, Tensor> { ["y"] = lik });
    }

    public override CompressedStrings compress_latent(Tensor y) =>
        new([entropy_bottleneck.compress(y)], y.size(2), y.size(3));

    public override Tensor decompress_latent(CompressedStrings s) => s.Kept is null
        ? entropy_bottleneck.decompress(s.Strings[0], s.LatentHeight, s.LatentWidth).to(g_s.named_parameters().First().parameter.device)
        : throw new InvalidDataException($"{Name}: the bitstream codes a truncated latent (a channel mask), which this model cannot write or read");
}

/// <summary>Ballé et al. 2018, scale hyperprior (CompressAI <c>bmshj2018-hyperprior</c>).</summary>
public class Bmshj2018Hyperprior : CompressionModel
{
    public readonly Sequential h_a, h_s;
    public readonly GaussianConditional gaussian_conditional;
    public override string Name => "bmshj2018-hyperprior";
    public override int DownsamplingFactor => 64;

    public Bmshj2018Hyperprior(long n = 128, long m = 192, Generator? g = null) : this(n, m, null, null, g) { }

    /// <summary>The scale hyperprior around other transforms (null: Ballé's).</summary>
    protected Bmshj2018Hyperprior(long n, long m, Sequential? analysis, Sequential? synthesis, Generator? g)
        : base(n, m, n, analysis ?? CodecLayers.AnalysisTransform(n, m, g), synthesis ?? CodecLayers.SynthesisTransform(n, m, g), g)
    {
        h_a = RegisterModule("h_a", new Sequential(Conv.conv(m, n, 3, 1, g), Conv.ReLU(), Conv.conv(n, n, g: g), Conv.ReLU(), Conv.conv(n, n, g: g)));
        h_s = RegisterModule("h_s", new Sequential(Conv.deconv(n, n, g: g), Conv.ReLU(), Conv.deconv(n, n, g: g), Conv.ReLU(), Conv.conv(n, m, 3, 1, g), Conv.ReLU()));
        gaussian_conditional = RegisterModule("gaussian_conditional", new GaussianConditional());
    }

    public override IEnumerable<EntropyModel> EntropyModels() => [entropy_bottleneck, gaussian_conditional];

    public override LatentResult latent_forward(Tensor y)
    {
        var z = h_a.forward(y.abs());
        var (zHat, zLik) = entropy_bottleneck.forward(z);
        var scales = h_s.forward(zHat);
        var (yHat, yLik) = gaussian_conditional.forward(y, scales);
        return new LatentResult(yHat, new Dictionary<string, Tensor> { ["y"] = yLik, ["z"] = zLik });
    }

    public override CompressedStrings compress_latent(Tensor y)
    {
        var z = h_a.forward(y.abs());
        var zStrings = entropy_bottleneck.compress(z);
        var zHat = entropy_bottleneck.decompress(zStrings, z.size(2), z.size(3)).to(y.device);
        var scales = h_s.forward(zHat);
        var yStrings = gaussian_conditional.compress(y, gaussian_conditional.build_indexes(scales));
        return new CompressedStrings([yStrings, zStrings], z.size(2), z.size(3));
    }

    public override CompressedStrings compress_latent(Tensor y, int[] kept)
    {
        CheckKept(kept);
        y = y * KeptMask(kept, y.device);
        var z = h_a.forward(y.abs());
        var zStrings = entropy_bottleneck.compress(z);
        var zHat = entropy_bottleneck.decompress(zStrings, z.size(2), z.size(3)).to(y.device);
        var index = KeptIndex(kept, y.device);
        var scales = h_s.forward(zHat).index_select(1, index);
        var yStrings = gaussian_conditional.compress(y.index_select(1, index), gaussian_conditional.build_indexes(scales));
        return new CompressedStrings([yStrings, zStrings], z.size(2), z.size(3)) { Kept = kept };
    }

    public override Tensor decompress_latent(CompressedStrings s)
    {
        var device = g_s.named_parameters().First().parameter.device;
        var zHat = entropy_bottleneck.decompress(s.Strings[1], s.LatentHeight, s.LatentWidth).to(device);
        var scales = h_s.forward(zHat);
        if (s.Kept is { } kept)
        {
            CheckKept(kept);
            scales = scales.index_select(1, KeptIndex(kept, device));
            return ExpandKept(gaussian_conditional.decompress(s.Strings[0], gaussian_conditional.build_indexes(scales), scales.shape, device: device), kept);
        }
        var shape = scales.shape;
        return gaussian_conditional.decompress(s.Strings[0], gaussian_conditional.build_indexes(scales), shape, device: device);
    }
}

/// <summary>Minnen et al. 2018, mean-scale hyperprior without context model (CompressAI <c>mbt2018-mean</c>).</summary>
public sealed class Mbt2018Mean : CompressionModel
{
    public readonly Sequential h_a, h_s;
    public readonly GaussianConditional gaussian_conditional;
    public override string Name => "mbt2018-mean";
    public override int DownsamplingFactor => 64;

    public Mbt2018Mean(long n = 128, long m = 192, Generator? g = null) : base(n, m, n, g)
    {
        h_a = RegisterModule("h_a", new Sequential(Conv.conv(m, n, 3, 1, g), Conv.LeakyReLU(), Conv.conv(n, n, g: g), Conv.LeakyReLU(), Conv.conv(n, n, g: g)));
        h_s = RegisterModule("h_s", new Sequential(Conv.deconv(n, m, g: g), Conv.LeakyReLU(), Conv.deconv(m, m * 3 / 2, g: g), Conv.LeakyReLU(), Conv.conv(m * 3 / 2, m * 2, 3, 1, g)));
        gaussian_conditional = RegisterModule("gaussian_conditional", new GaussianConditional());
    }

    public override IEnumerable<EntropyModel> EntropyModels() => [entropy_bottleneck, gaussian_conditional];

    private (Tensor scales, Tensor means) Params(Tensor zHat)
    {
        var p = h_s.forward(zHat);
        return (p.narrow(1, 0, M), p.narrow(1, M, M));
    }

    public override LatentResult latent_forward(Tensor y)
    {
        var z = h_a.forward(y);
        var (zHat, zLik) = entropy_bottleneck.forward(z);
        var (scales, means) = Params(zHat);
        var (yHat, yLik) = gaussian_conditional.forward(y, scales, means);
        return new LatentResult(yHat, new Dictionary<string, Tensor> { ["y"] = yLik, ["z"] = zLik });
    }

    public override CompressedStrings compress_latent(Tensor y)
    {
        var z = h_a.forward(y);
        var zStrings = entropy_bottleneck.compress(z);
        var zHat = entropy_bottleneck.decompress(zStrings, z.size(2), z.size(3)).to(y.device);
        var (scales, means) = Params(zHat);
        var yStrings = gaussian_conditional.compress(y, gaussian_conditional.build_indexes(scales), means);
        return new CompressedStrings([yStrings, zStrings], z.size(2), z.size(3));
    }

    public override CompressedStrings compress_latent(Tensor y, int[] kept)
    {
        CheckKept(kept);
        y = y * KeptMask(kept, y.device);
        var z = h_a.forward(y);
        var zStrings = entropy_bottleneck.compress(z);
        var zHat = entropy_bottleneck.decompress(zStrings, z.size(2), z.size(3)).to(y.device);
        var index = KeptIndex(kept, y.device);
        var (scales, means) = Params(zHat);
        var yStrings = gaussian_conditional.compress(y.index_select(1, index), gaussian_conditional.build_indexes(scales.index_select(1, index)), means.index_select(1, index));
        return new CompressedStrings([yStrings, zStrings], z.size(2), z.size(3)) { Kept = kept };
    }

    public override Tensor decompress_latent(CompressedStrings s)
    {
        var device = g_s.named_parameters().First().parameter.device;
        var zHat = entropy_bottleneck.decompress(s.Strings[1], s.LatentHeight, s.LatentWidth).to(device);
        var (scales, means) = Params(zHat);
        if (s.Kept is { } kept)
        {
            CheckKept(kept);
            var index = KeptIndex(kept, device);
            scales = scales.index_select(1, index);
            return ExpandKept(gaussian_conditional.decompress(s.Strings[0], gaussian_conditional.build_indexes(scales), scales.shape, means.index_select(1, index), device), kept);
        }
        return gaussian_conditional.decompress(s.Strings[0], gaussian_conditional.build_indexes(scales), scales.shape, means, device);
    }
}

/// <summary>
/// The high-capacity teacher of FEDS distillation (Li et al., arXiv 2503.06399: attention blocks, extra residual blocks,
/// a wider latent): the scale hyperprior with a residual block and a window-attention block in each transform —
/// g_a: conv, GDN, conv, GDN, residual, conv, GDN, attention, conv; g_s mirrored: deconv, IGDN, attention, deconv,
/// IGDN, residual, deconv, IGDN, deconv. Its stages end at the same resolutions as Ballé's, so a student's stage
/// outputs can be aligned with its own. A codec for <c>codec train</c>; split learning cuts Ballé's 7-layer transforms only.
/// </summary>
public sealed class FedsTeacher : Bmshj2018Hyperprior
{
    public override string Name => "feds-teacher";
    public override int[] AnalysisStageEnds => [2, 5, 8];
    public override int[] SynthesisStageEnds => [3, 6, 8];

    public FedsTeacher(long n = 128, long m = 320, Generator? g = null)
        : base(n, m, new Sequential(Conv.conv(3, n, g: g), new GDN(n), Conv.conv(n, n, g: g), new GDN(n), new ResidualBlock(n, g),
                   Conv.conv(n, n, g: g), new GDN(n), new WindowAttentionBlock(n, 4, Heads(n), g), Conv.conv(n, m, g: g)),
               new Sequential(Conv.deconv(m, n, g: g), new GDN(n, inverse: true), new WindowAttentionBlock(n, 4, Heads(n), g),
                   Conv.deconv(n, n, g: g), new GDN(n, inverse: true), new ResidualBlock(n, g), Conv.deconv(n, n, g: g), new GDN(n, inverse: true),
                   Conv.deconv(n, 3, g: g)), g) { }

    private static long Heads(long n) => n % 8 == 0 ? 8 : n % 4 == 0 ? 4 : 1;

    /// <summary>Ballé's layers plus the two residual blocks (1/4 resolution) and the two attention blocks (1/8).</summary>
    public override long ForwardMacs(long batch, long height, long width)
    {
        long quarter = (height / 4) * (width / 4), tokens = (height / 8) * (width / 8);
        var residual = 2 * 9 * N * N * quarter;
        var attention = 3 * N * N * tokens + 2 * tokens * 16 * N + N * N * tokens + 4 * N * N * tokens;
        return base.ForwardMacs(batch, height, width) + 2 * batch * (residual + attention);
    }
}

/// <summary>Codec models by registry name.</summary>
public static class CodecZoo
{
    /// <summary>Models with Ballé's 7-layer transforms, which split learning can cut.</summary>
    public static readonly string[] Names = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean"];

    /// <summary>Every model <c>codec train</c> and the codec commands know (<see cref="Names"/> and the FEDS teacher).</summary>
    public static readonly string[] AllNames = [.. Names, "feds-teacher"];

    public static CompressionModel Create(string name, long n, long m, Generator? g = null) => name switch
    {
        "bmshj2018-factorized" => new Bmshj2018Factorized(n, m, g),
        "bmshj2018-hyperprior" => new Bmshj2018Hyperprior(n, m, g),
        "mbt2018-mean" => new Mbt2018Mean(n, m, g),
        "feds-teacher" => new FedsTeacher(n, m, g),
        _ => throw new ArgumentException($"unknown codec model '{name}' (known: {string.Join(", ", AllNames)})"),
    };
}
