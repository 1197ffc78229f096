using CoFUsfl.Models.Coding;
using CoFUsfl.Models.Layers;
using CoFUsfl.Torch;
using CoFUsfl.Torch.NN;

namespace CoFUsfl.Models.EntropyModels;

#pragma warning disable CS8981, IDE1006

/// <summary>How latents are quantized in training: additive uniform noise (the classic proxy) or straight-through rounding.</summary>
public enum TrainingQuantization { Noise, Ste }

/// <summary>
/// CompressAI's EntropyModel: quantization, a likelihood bound, and the quantized CDF tables the rANS coder
/// uses. Tables are computed by <c>update()</c> from the learned density and are not part of the state dict
/// (they are derived data; <c>update()</c> recomputes them bit-identically after loading weights).
/// </summary>
public abstract class EntropyModel : Module
{
    public const int Precision = 16;
    public double TailMass { get; }
    public double LikelihoodBound { get; }
    protected readonly LowerBound likelihoodLowerBound;

    /// <summary>Random stream of the training noise (seeded by the owner, for deterministic runs).</summary>
    public Generator? NoiseGenerator { get; set; }
    public TrainingQuantization TrainingQuantization { get; set; } = TrainingQuantization.Noise;

    /// <summary>The coder's tables after <c>update()</c>; null before.</summary>
    public CdfTable? Table { get; protected set; }

    protected EntropyModel(double tailMass = 1e-9, double likelihoodBound = 1e-9)
    {
        TailMass = tailMass;
        LikelihoodBound = likelihoodBound;
        likelihoodLowerBound = RegisterModule("likelihood_lower_bound", new LowerBound(likelihoodBound));
    }

    /// <summary>Training: x + U(−½, ½) (or STE rounding around <paramref name="means"/>). Eval: round(x − means) + means.</summary>
    public Tensor quantize(Tensor x, bool training, Tensor? means = null)
    {
        if (training)
        {
            if (TrainingQuantization == TrainingQuantization.Noise)
                return x + torch.uniform_like(x, -0.5, 0.5, NoiseGenerator);
            return means is null ? ops.round_ste(x) : ops.round_ste(x - means) + means;
        }
        return means is null ? x.round() : (x - means).round() + means;
    }

    /// <summary>Integer symbols round(x − means), as the coder takes them.</summary>
    public static int[] symbols(Tensor x, Tensor? means = null)
    {
        var result = new int[x.numel()];
        symbols(x, result, means);
        return result;
    }

    /// <summary>Integer symbols round(x − means) into <paramref name="destination"/> (exactly x's element count; a pooled buffer may be passed).</summary>
    public static void symbols(Tensor x, Span<int> destination, Tensor? means = null)
    {
        using var scope = DisposeScope.Open();
        var centred = means is null ? x : x - means;
        centred.round().to(ScalarType.Int32).CopyTo(destination);
        // NaN, ±inf and values beyond the int range all convert to int.MinValue: say so instead of failing in the coder.
        var bad = destination.IndexOf(int.MinValue);
        if (bad >= 0)
            throw new ArithmeticException($"value {bad} to entropy-code is not finite (NaN or infinite) or beyond ±2^31: the model has diverged");
    }

    /// <summary>Per-element symbol count from which a batch is coded on several threads (below it, threads cost more than they save).</summary>
    public const int ParallelThreshold = ParallelStrings.Threshold;

    /// <summary>Threads for batch coding: -1 = as many as useful (the default), 1 = one thread.</summary>
    public static int MaxDegreeOfParallelism
    {
        get => ParallelStrings.MaxDegreeOfParallelism;
        set => ParallelStrings.MaxDegreeOfParallelism = value;
    }

    /// <summary>
    /// One rANS string per batch element: symbols and CDF indexes are [B, …] flattened. Elements are independent
    /// strings, so a large batch is coded on several threads; the bytes are the same either way.
    /// </summary>
    public static byte[][] EncodeBatch(int[] symbols, int[] indexes, int batch, CdfTable table)
    {
        var per = symbols.Length / batch;
        var strings = new byte[batch][];
        ParallelStrings.ForEachElement(batch, per, b => strings[b] = RansEncoder.EncodeWithIndexes(symbols.AsSpan(b * per, per), indexes.AsSpan(b * per, per), table));
        return strings;
    }

    /// <summary>The symbols of one string per batch element, as floats ready for a tensor (elements on several threads when large).</summary>
    public static float[] DecodeBatch(IReadOnlyList<ReadOnlyMemory<byte>> strings, int[] indexes, CdfTable table)
    {
        var per = indexes.Length / strings.Count;
        var values = new float[indexes.Length];
        ParallelStrings.ForEachElement(strings.Count, per, b =>
        {
            var decoded = new int[per];
            RansDecoder.DecodeWithIndexes(strings[b].Span, indexes.AsSpan(b * per, per), table, decoded);
            for (var j = 0; j < per; j++) values[b * per + j] = decoded[j];
        });
        return values;
    }

    protected Tensor bound_likelihood(Tensor likelihood) => likelihoodLowerBound.forward(likelihood);

    protected CdfTable RequireTable() =>
        Table ?? throw new InvalidOperationException($"{GetType().Name}: call update() before compress/decompress (the CDF tables are not built)");

    /// <summary>
    /// Quantized CDFs as CompressAI's <c>_pmf_to_cdf</c>: each PMF (its first length[i] entries) with its tail
    /// mass appended as the escape symbol, quantized to 16-bit precision with no zero-width symbol.
    /// </summary>
    protected static CdfTable BuildTable(float[] pmf, int maxLength, float[] tailMass, int[] lengths, int[] offsets)
    {
        var pmfs = new List<float[]>(lengths.Length);
        for (var i = 0; i < lengths.Length; i++) pmfs.Add(pmf.AsSpan(i * maxLength, lengths[i]).ToArray());
        return CdfTable.FromPmfs(pmfs, lengths, tailMass, offsets);
    }
}
