using CoFUsfl.Models.Coding;
using CoFUsfl.Torch;

namespace CoFUsfl.Models.EntropyModels;

#pragma warning disable CS8981, IDE1006

/// <summary>
/// CompressAI's EntropyBottleneck (Ballé et al. 2018, appendix 6.1): a per-channel factorized density given by a
/// small monotone network (filters (3,3,3,3), init scale 10), learned quantiles with an auxiliary loss, median-centred
/// rounding at inference, likelihood bound 1e-9. Parameter names match CompressAI (<c>_matrix0</c>, <c>quantiles</c>, …).
/// </summary>
public sealed class EntropyBottleneck : EntropyModel
{
    private readonly Tensor[] matrices, biases, factors;
    public readonly Tensor quantiles;
    private readonly Tensor target;
    public long Channels { get; }
    public int[] Filters { get; }
    public double InitScale { get; }

    public EntropyBottleneck(long channels, double tailMass = 1e-9, double initScale = 10, int[]? filters = null, Generator? generator = null)
        : base(tailMass)
    {
        Channels = channels;
        Filters = filters ?? [3, 3, 3, 3];
        InitScale = initScale;
        var f = new[] { 1 }.Concat(Filters).Append(1).ToArray();
        var scale = Math.Pow(initScale, 1.0 / (Filters.Length + 1));
        matrices = new Tensor[Filters.Length + 1];
        biases = new Tensor[Filters.Length + 1];
        factors = new Tensor[Filters.Length];
        for (var i = 0; i < Filters.Length + 1; i++)
        {
            var init = Math.Log(Math.Exp(1 / scale / f[i + 1]) - 1); // softplus⁻¹
            matrices[i] = RegisterParameter($"_matrix{i}", torch.full([channels, f[i + 1], f[i]], init));
            biases[i] = RegisterParameter($"_bias{i}", torch.uniform([channels, f[i + 1], 1], -0.5, 0.5, generator));
            if (i < Filters.Length)
                factors[i] = RegisterParameter($"_factor{i}", torch.zeros([channels, f[i + 1], 1]));
        }
        var q = new float[channels * 3];
        for (var c = 0; c < channels; c++) { q[3 * c] = (float)-initScale; q[3 * c + 2] = (float)initScale; }
        quantiles = RegisterParameter("quantiles", torch.from_array(q, channels, 1, 3));
        var t = Math.Log(2 / tailMass - 1);
        target = RegisterBuffer("target", torch.from_array(new[] { (float)-t, 0f, (float)t }, 3));
    }

    /// <summary>Logits of the cumulative density at <paramref name="inputs"/> ([C, 1, n]).</summary>
    public Tensor logits_cumulative(Tensor inputs, bool stopGradient)
    {
        var logits = inputs;
        for (var i = 0; i < matrices.Length; i++)
        {
            var m = stopGradient ? matrices[i].detach() : matrices[i];
            var b = stopGradient ? biases[i].detach() : biases[i];
            logits = m.softplus().matmul(logits) + b;
            if (i < factors.Length)
            {
                var f = stopGradient ? factors[i].detach() : factors[i];
                logits = logits + f.tanh() * logits.tanh();
            }
        }
        return logits;
    }

    /// <summary>P(x − ½ &lt; X ≤ x + ½) under the learned density, computed where it is numerically stable.</summary>
    public Tensor likelihood(Tensor inputs, bool stopGradient = false)
    {
        var lower = logits_cumulative(inputs - 0.5, stopGradient);
        var upper = logits_cumulative(inputs + 0.5, stopGradient);
        var sign = -(lower + upper).sign();
        return ((sign * upper).sigmoid() - (sign * lower).sigmoid()).abs();
    }

    /// <summary>Medians per channel, [C, 1, 1].</summary>
    public Tensor medians() => quantiles.narrow(2, 1, 1);

    /// <summary>Auxiliary loss: pulls the quantile parameters to the tail-mass quantiles of the density.</summary>
    public Tensor loss()
    {
        var logits = logits_cumulative(quantiles, stopGradient: true);
        return (logits - target).abs().sum();
    }

    /// <summary>(ŷ, likelihoods) for y of shape [B, C, ...]: noise (or STE) in training, median-centred rounding in eval.</summary>
    public (Tensor yHat, Tensor likelihoods) forward(Tensor x, bool? training = null)
    {
        var train = training ?? this.training;
        var shape = x.shape;
        var perm = Enumerable.Range(0, shape.Length).Select(i => (long)i).ToArray();
        (perm[0], perm[1]) = (perm[1], perm[0]);
        var xp = x.permute(perm).contiguous();
        var pshape = xp.shape;
        var values = xp.reshape(pshape[0], 1, -1);
        var outputs = quantize(values, train, train && TrainingQuantization == TrainingQuantization.Noise ? null : medians());
        var lik = bound_likelihood(likelihood(outputs));
        var yHat = outputs.reshape(pshape).permute(perm).contiguous();
        var l = lik.reshape(pshape).permute(perm).contiguous();
        return (yHat, l);
    }

    /// <summary>Builds the coder's CDF tables from the current density (CompressAI's <c>update()</c>).</summary>
    public void update()
    {
        using var scope = DisposeScope.Open();
        using var ng = torch.no_grad();
        var q = quantiles.detach().cpu().data<float>(); // [C,1,3]
        var c = (int)Channels;
        var medians = new float[c];
        var minima = new int[c];
        var maxima = new int[c];
        for (var i = 0; i < c; i++)
        {
            medians[i] = q[3 * i + 1];
            minima[i] = Math.Max(0, (int)Math.Ceiling(medians[i] - q[3 * i]));
            maxima[i] = Math.Max(0, (int)Math.Ceiling(q[3 * i + 2] - medians[i]));
        }
        var lengths = new int[c];
        var offsets = new int[c];
        var maxLength = 0;
        for (var i = 0; i < c; i++)
        {
            offsets[i] = -minima[i];
            lengths[i] = maxima[i] + minima[i] + 1;
            maxLength = Math.Max(maxLength, lengths[i]);
        }
        var samples = new float[c * maxLength];
        for (var i = 0; i < c; i++)
            for (var j = 0; j < maxLength; j++) samples[i * maxLength + j] = j + (medians[i] - minima[i]);
        var dev = quantiles.device;
        var s = torch.from_array(samples, c, 1, maxLength).to(dev);
        var lower = logits_cumulative(s - 0.5, true);
        var upper = logits_cumulative(s + 0.5, true);
        var sign = -(lower + upper).sign();
        var pmf = ((sign * upper).sigmoid() - (sign * lower).sigmoid()).abs().cpu().data<float>();
        var lowerFirst = lower.narrow(2, 0, 1).sigmoid().cpu().data<float>();
        var upperLast = (-upper.narrow(2, maxLength - 1, 1)).sigmoid().cpu().data<float>();
        var tail = new float[c];
        for (var i = 0; i < c; i++) tail[i] = lowerFirst[i] + upperLast[i];
        Table = BuildTable(pmf, maxLength, tail, lengths, offsets);
    }

    /// <summary>Channel index of every element of a [B, C, H, W] latent (the CDF each symbol uses).</summary>
    public static int[] build_indexes(long[] shape)
    {
        long n = shape[0], c = shape[1], hw = 1;
        for (var i = 2; i < shape.Length; i++) hw *= shape[i];
        var idx = new int[n * c * hw];
        var k = 0;
        for (var b = 0; b < n; b++)
            for (var ch = 0; ch < c; ch++)
                for (var j = 0; j < hw; j++) idx[k++] = ch;
        return idx;
    }

    /// <summary>One rANS string per batch element of y [B, C, H, W].</summary>
    public byte[][] compress(Tensor y)
    {
        var table = RequireTable();
        using var scope = DisposeScope.Open();
        var shape = y.shape;
        var med = medians().detach().reshape(1, Channels, 1, 1).to(y.device);
        return EncodeBatch(symbols(y, med), build_indexes(shape), (int)shape[0], table);
    }

    /// <summary>ẑ of shape [B, C, H, W] from the strings of <see cref="compress"/>.</summary>
    public Tensor decompress(IReadOnlyList<byte[]> strings, long height, long width)
    {
        var table = RequireTable();
        long[] shape = [strings.Count, Channels, height, width];
        var values = DecodeBatch(strings.Select(s => (ReadOnlyMemory<byte>)s).ToList(), build_indexes(shape), table);
        using var scope = DisposeScope.Open();
        var med = medians().detach().reshape(1, Channels, 1, 1).cpu();
        var result = (torch.from_array(values, shape) + med).to(quantiles.device);
        return result.MoveToOuterDisposeScope();
    }
}
