namespace CoFUsfl.Models.Coding;

/// <summary>
/// CDF tables of discretized zero-mean Gaussians, as CompressAI's <c>GaussianConditional.update()</c> builds them
/// from a scale table, and the matching <c>build_indexes</c>. Arithmetic follows torch's float32 steps; erfc is
/// evaluated in double and rounded to float, so single pmf entries may differ from torch by an ulp.
/// </summary>
public static class GaussianCdfTables
{
    /// <summary>CompressAI's defaults: <c>SCALES_MIN</c> 0.11, <c>SCALES_MAX</c> 256, <c>SCALES_LEVELS</c> 64.</summary>
    public const double ScalesMin = 0.11, ScalesMax = 256;
    /// <summary>Number of scale levels in CompressAI's default table.</summary>
    public const int ScalesLevels = 64;

    /// <summary>
    /// CompressAI's <c>get_scale_table</c>: <c>exp(linspace(log(min), log(max), levels))</c> in float32.
    /// </summary>
    public static float[] ScaleTable(double min = ScalesMin, double max = ScalesMax, int levels = ScalesLevels)
    {
        if (!(min > 0) || !(max >= min) || levels < 1)
            throw new ArgumentException($"scale table needs 0 < min ≤ max and levels ≥ 1 (got {min}, {max}, {levels})");
        var start = (float)Math.Log(min);
        var end = (float)Math.Log(max);
        var table = new float[levels];
        if (levels == 1) { table[0] = MathF.Exp(start); return table; }
        // torch.linspace fills the first half from the start and the second half from the end.
        var step = (end - start) / (levels - 1);
        var half = levels / 2;
        for (var i = 0; i < levels; i++)
        {
            var v = i < half ? start + step * i : end - step * (levels - 1 - i);
            table[i] = MathF.Exp(v);
        }
        return table;
    }

    /// <summary>
    /// <c>GaussianConditional.update()</c>: for each scale s, the pmf of round(N(0, s²)) on
    /// −c … c with c = ceil(s · −Φ⁻¹(tailMass / 2)), plus the two-sided tail mass as escape symbol;
    /// offsets are −c.
    /// </summary>
    public static CdfTable Build(ReadOnlySpan<float> scaleTable, double tailMass = 1e-9)
    {
        if (scaleTable.IsEmpty) throw new ArgumentException("scale table is empty", nameof(scaleTable));
        if (!(tailMass > 0 && tailMass < 1)) throw new ArgumentOutOfRangeException(nameof(tailMass), tailMass, "tail mass must be in (0, 1)");
        for (var i = 0; i < scaleTable.Length; i++)
        {
            if (!(scaleTable[i] > 0) || !float.IsFinite(scaleTable[i]))
                throw new ArgumentException($"scaleTable[{i}] = {scaleTable[i]} is not a positive scale", nameof(scaleTable));
            if (i > 0 && scaleTable[i] < scaleTable[i - 1])
                throw new ArgumentException($"scale table must be sorted: scaleTable[{i}] = {scaleTable[i]} < scaleTable[{i - 1}]", nameof(scaleTable));
        }

        var multiplier = (float)-StandardNormalQuantile(tailMass / 2);
        var n = scaleTable.Length;
        var pmfs = new float[n][];
        var lengths = new int[n];
        var tails = new float[n];
        var offsets = new int[n];
        const float half = 0.5f;
        var c = (float)-Math.Pow(2, -0.5);
        for (var i = 0; i < n; i++)
        {
            var scale = scaleTable[i];
            var center = (int)MathF.Ceiling(scale * multiplier);
            var length = 2 * center + 1;
            var pmf = new float[length];
            float lower0 = 0;
            for (var k = 0; k < length; k++)
            {
                var sample = (float)Math.Abs(k - center);
                var upper = StandardizedCumulative((half - sample) / scale, c);
                var lower = StandardizedCumulative((-half - sample) / scale, c);
                pmf[k] = upper - lower;
                if (k == 0) lower0 = lower;
            }
            pmfs[i] = pmf;
            lengths[i] = length;
            tails[i] = 2 * lower0;
            offsets[i] = -center;
        }
        return CdfTable.FromPmfs(pmfs, lengths, tails, offsets);
    }

    /// <summary>
    /// CompressAI's <c>build_indexes</c>: scales are lower-bounded by <paramref name="scaleBound"/> and mapped to
    /// the index of the first table entry ≥ scale (the last entry for larger scales).
    /// </summary>
    public static void BuildIndexes(ReadOnlySpan<float> scales, ReadOnlySpan<float> scaleTable, Span<int> indexes, float scaleBound = (float)ScalesMin)
    {
        if (indexes.Length < scales.Length)
            throw new ArgumentException($"indexes holds {indexes.Length} but there are {scales.Length} scales", nameof(indexes));
        if (scaleTable.IsEmpty) throw new ArgumentException("scale table is empty", nameof(scaleTable));
        var last = scaleTable.Length - 1;
        for (var i = 0; i < scales.Length; i++)
        {
            var s = MathF.Max(scales[i], scaleBound);
            // indexes = last − #{table[:-1] ≥ s}; the table is sorted, so binary-search the first entry ≥ s.
            int lo = 0, hi = last;
            while (lo < hi)
            {
                var mid = (lo + hi) >> 1;
                if (scaleTable[mid] >= s) hi = mid; else lo = mid + 1;
            }
            indexes[i] = lo;
        }
    }

    /// <summary>Array-returning <see cref="BuildIndexes(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{int}, float)"/>.</summary>
    public static int[] BuildIndexes(ReadOnlySpan<float> scales, ReadOnlySpan<float> scaleTable, float scaleBound = (float)ScalesMin)
    {
        var r = new int[scales.Length];
        BuildIndexes(scales, scaleTable, r, scaleBound);
        return r;
    }

    // torch: 0.5 * erfc(const * inputs), all float32.
    private static float StandardizedCumulative(float input, float c) => 0.5f * (float)Erfc(c * input);

    /// <summary>Standard normal CDF Φ(z) in double.</summary>
    public static double StandardNormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>Φ⁻¹(p) in double (scipy's <c>norm.ppf</c>), by bisection on <see cref="StandardNormalCdf"/> to full precision.</summary>
    public static double StandardNormalQuantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "quantile needs 0 < p < 1");
        double lo = -40, hi = 40;
        for (var it = 0; it < 200 && hi - lo > 0; it++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (StandardNormalCdf(mid) < p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// Complementary error function in double, accurate to a few ulps: Taylor series of erf for |x| &lt; 2,
    /// a continued fraction (modified Lentz) for the tail where erfc is tiny and needs relative precision.
    /// </summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2 - Erfc(-x);
        if (x < 2)
        {
            // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
            double sum = 0, term = x, x2 = x * x;
            for (var n = 0; n < 200; n++)
            {
                var t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
                term *= -x2 / (n + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        if (x > 27) return 0;
        // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
        const double tiny = 1e-300;
        var f = x;
        var cc = x;
        var d = 0.0;
        for (var k = 1; k < 5000; k++)
        {
            var a = k * 0.5;
            d = x + a * d;
            if (Math.Abs(d) < tiny) d = tiny;
            cc = x + a / cc;
            if (Math.Abs(cc) < tiny) cc = tiny;
            d = 1 / d;
            var delta = cc * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}
