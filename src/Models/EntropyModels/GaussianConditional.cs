using CoFUsfl.Models.Coding;
using CoFUsfl.Models.Layers;
using CoFUsfl.Torch;

namespace CoFUsfl.Models.EntropyModels;

#pragma warning disable CS8981, IDE1006

/// <summary>
/// CompressAI's GaussianConditional: y ~ N(μ, σ) convolved with U(−½, ½), σ from the hyperprior, bounded below by 0.11;
/// coding uses a table of discretized Gaussians for 64 log-spaced scales 0.11…256 and the nearest table scale ≥ σ.
/// </summary>
public sealed class GaussianConditional : EntropyModel
{
    private readonly LowerBound lowerBoundScale;
    public float[] ScaleTable { get; }
    public double ScaleBound { get; }

    public GaussianConditional(float[]? scaleTable = null, double scaleBound = 0.11, double tailMass = 1e-9) : base(tailMass)
    {
        ScaleTable = scaleTable ?? DefaultScaleTable();
        if (ScaleTable.Length == 0 || ScaleTable.Zip(ScaleTable.Skip(1)).Any(p => p.Second <= p.First))
            throw new ArgumentException("scale table must be non-empty and strictly increasing");
        ScaleBound = scaleBound;
        lowerBoundScale = RegisterModule("lower_bound_scale", new LowerBound(scaleBound));
    }

    /// <summary>exp(linspace(ln 0.11, ln 256, 64)), CompressAI's get_scale_table().</summary>
    public static float[] DefaultScaleTable() => GaussianCdfTables.ScaleTable();

    /// <summary>Φ(x) as ½·erfc(−x/√2).</summary>
    public static Tensor standardized_cumulative(Tensor x) => (x * -Math.Sqrt(0.5)).erfc() * 0.5;

    public Tensor likelihood(Tensor inputs, Tensor scales, Tensor? means = null)
    {
        var values = (means is null ? inputs : inputs - means).abs();
        var s = lowerBoundScale.forward(scales);
        var upper = standardized_cumulative((0.5 - values) / s);
        var lower = standardized_cumulative((-0.5 - values) / s);
        return upper - lower;
    }

    public (Tensor yHat, Tensor likelihoods) forward(Tensor inputs, Tensor scales, Tensor? means = null, bool? training = null)
    {
        var train = training ?? this.training;
        var outputs = quantize(inputs, train, means);
        return (outputs, bound_likelihood(likelihood(outputs, scales, means)));
    }

    /// <summary>Builds the discretized-Gaussian CDF tables (CompressAI's <c>update()</c>).</summary>
    public void update() => Table = GaussianCdfTables.Build(ScaleTable, TailMass);

    /// <summary>Index of the smallest table scale ≥ each bounded σ (CompressAI's build_indexes).</summary>
    public int[] build_indexes(Tensor scales)
    {
        using var scope = DisposeScope.Open();
        var s = scales.detach().@float().data<float>();
        return GaussianCdfTables.BuildIndexes(s, ScaleTable, (float)ScaleBound);
    }

    public byte[][] compress(Tensor y, int[] indexes, Tensor? means = null)
    {
        var table = RequireTable();
        return EncodeBatch(symbols(y, means), indexes, (int)y.size(0), table);
    }

    public Tensor decompress(IReadOnlyList<byte[]> strings, int[] indexes, long[] shape, Tensor? means = null, Device? device = null)
    {
        var table = RequireTable();
        var values = DecodeBatch(strings.Select(s => (ReadOnlyMemory<byte>)s).ToList(), indexes, table);
        using var scope = DisposeScope.Open();
        var t = torch.from_array(values, shape).to(device ?? Device.CPU);
        var result = means is null ? t : t + means;
        return result.MoveToOuterDisposeScope();
    }
}
