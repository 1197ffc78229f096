namespace CoFUsfl.Models.Metrics;

/// <summary>
/// Bjøntegaard deltas (VCEG-M33): cubic least-squares fits of ln(rate) against PSNR (for BD-rate) or PSNR against
/// ln(rate) (for BD-PSNR), each integrated over the overlap of the two curves' ranges. Negative BD-rate means the
/// test codec needs fewer bits than the anchor for the same quality.
/// </summary>
public static class Bjontegaard
{
    /// <summary>Average bitrate difference of <paramref name="testRate"/> against <paramref name="anchorRate"/> at equal quality, in percent.</summary>
    /// <exception cref="ArgumentException">Fewer than 4 points, mismatched lengths, non-positive rates, or no overlap in quality.</exception>
    public static double BdRate(ReadOnlySpan<double> anchorRate, ReadOnlySpan<double> anchorQuality,
        ReadOnlySpan<double> testRate, ReadOnlySpan<double> testQuality)
    {
        Check(anchorRate, anchorQuality, "anchor");
        Check(testRate, testQuality, "test");
        var la = Log(anchorRate);
        var lt = Log(testRate);
        var pa = PolyFit(anchorQuality, la, 3);
        var pt = PolyFit(testQuality, lt, 3);
        var (lo, hi) = Overlap(anchorQuality, testQuality, "quality");
        var avgDiff = (Integral(pt, lo, hi) - Integral(pa, lo, hi)) / (hi - lo);
        return (Math.Exp(avgDiff) - 1) * 100;
    }

    /// <summary>Average quality (PSNR dB) difference of the test curve over the anchor at equal rate.</summary>
    public static double BdPsnr(ReadOnlySpan<double> anchorRate, ReadOnlySpan<double> anchorQuality,
        ReadOnlySpan<double> testRate, ReadOnlySpan<double> testQuality)
    {
        Check(anchorRate, anchorQuality, "anchor");
        Check(testRate, testQuality, "test");
        var la = Log(anchorRate);
        var lt = Log(testRate);
        var pa = PolyFit(la, anchorQuality, 3);
        var pt = PolyFit(lt, testQuality, 3);
        var (lo, hi) = Overlap(la, lt, "log-rate");
        return (Integral(pt, lo, hi) - Integral(pa, lo, hi)) / (hi - lo);
    }

    /// <summary>BD-rate (%) of <paramref name="test"/> against <paramref name="anchor"/> on PSNR.</summary>
    public static double BdRate(RdCurve anchor, RdCurve test) => BdRate(anchor.Bpp, anchor.RequirePsnr(), test.Bpp, test.RequirePsnr());

    /// <summary>BD-PSNR (dB) of <paramref name="test"/> against <paramref name="anchor"/>.</summary>
    public static double BdPsnr(RdCurve anchor, RdCurve test) => BdPsnr(anchor.Bpp, anchor.RequirePsnr(), test.Bpp, test.RequirePsnr());

    private static void Check(ReadOnlySpan<double> rate, ReadOnlySpan<double> quality, string which)
    {
        if (rate.Length != quality.Length) throw new ArgumentException($"{which}: {rate.Length} rates but {quality.Length} quality values");
        if (rate.Length < 4) throw new ArgumentException($"{which}: a cubic fit needs at least 4 points, got {rate.Length}");
        for (var i = 0; i < rate.Length; i++)
        {
            if (!(rate[i] > 0) || !double.IsFinite(rate[i])) throw new ArgumentException($"{which}: rate[{i}] = {rate[i]} must be positive");
            if (!double.IsFinite(quality[i])) throw new ArgumentException($"{which}: quality[{i}] = {quality[i]} is not finite");
        }
    }

    private static double[] Log(ReadOnlySpan<double> v)
    {
        var r = new double[v.Length];
        for (var i = 0; i < v.Length; i++) r[i] = Math.Log(v[i]);
        return r;
    }

    private static (double Lo, double Hi) Overlap(ReadOnlySpan<double> a, ReadOnlySpan<double> b, string what)
    {
        var lo = Math.Max(Min(a), Min(b));
        var hi = Math.Min(Max(a), Max(b));
        if (!(hi > lo)) throw new ArgumentException($"the curves do not overlap in {what} ([{Min(a)}, {Max(a)}] vs [{Min(b)}, {Max(b)}])");
        return (lo, hi);
    }

    private static double Min(ReadOnlySpan<double> v) { var m = double.MaxValue; foreach (var x in v) m = Math.Min(m, x); return m; }
    private static double Max(ReadOnlySpan<double> v) { var m = double.MinValue; foreach (var x in v) m = Math.Max(m, x); return m; }

    /// <summary>∫ p from lo to hi, p given low order first.</summary>
    private static double Integral(double[] p, double lo, double hi)
    {
        double F(double x)
        {
            double s = 0, xp = x;
            for (var k = 0; k < p.Length; k++) { s += p[k] * xp / (k + 1); xp *= x; }
            return s;
        }
        return F(hi) - F(lo);
    }

    /// <summary>
    /// Least-squares polynomial of <paramref name="degree"/> (coefficients low order first) by Householder QR on the
    /// Vandermonde matrix of centred, scaled x — numerically as robust as numpy.polyfit.
    /// </summary>
    internal static double[] PolyFit(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int degree)
    {
        int m = x.Length, n = degree + 1;
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= m;
        double scale = 0;
        foreach (var v in x) scale = Math.Max(scale, Math.Abs(v - mean));
        if (scale == 0) throw new ArgumentException("all x values are equal; cannot fit a curve");
        var a = new double[m, n];
        var b = new double[m];
        for (var i = 0; i < m; i++)
        {
            var t = (x[i] - mean) / scale;
            var p = 1.0;
            for (var j = 0; j < n; j++) { a[i, j] = p; p *= t; }
            b[i] = y[i];
        }
        // Householder QR, applied to b as we go.
        for (var k = 0; k < n; k++)
        {
            double norm = 0;
            for (var i = k; i < m; i++) norm += a[i, k] * a[i, k];
            norm = Math.Sqrt(norm);
            if (norm == 0) throw new ArgumentException("degenerate points: the fit is singular");
            var alpha = a[k, k] > 0 ? -norm : norm;
            var v = new double[m];
            for (var i = k; i < m; i++) v[i] = a[i, k];
            v[k] -= alpha;
            double vv = 0;
            for (var i = k; i < m; i++) vv += v[i] * v[i];
            if (vv == 0) continue;
            for (var j = k; j < n; j++)
            {
                double s = 0;
                for (var i = k; i < m; i++) s += v[i] * a[i, j];
                s = 2 * s / vv;
                for (var i = k; i < m; i++) a[i, j] -= s * v[i];
            }
            double sb = 0;
            for (var i = k; i < m; i++) sb += v[i] * b[i];
            sb = 2 * sb / vv;
            for (var i = k; i < m; i++) b[i] -= sb * v[i];
        }
        var c = new double[n];
        for (var k = n - 1; k >= 0; k--)
        {
            var s = b[k];
            for (var j = k + 1; j < n; j++) s -= a[k, j] * c[j];
            if (Math.Abs(a[k, k]) < 1e-14) throw new ArgumentException("degenerate points: the fit is singular");
            c[k] = s / a[k, k];
        }
        // Expand p(t) with t = (x − mean)/scale into powers of x.
        var result = new double[n];
        for (var k = 0; k < n; k++)
        {
            // c_k · ((x − mean)/scale)^k = c_k / scale^k · Σ_j C(k, j) x^j (−mean)^(k−j)
            var coef = c[k] / Math.Pow(scale, k);
            double comb = 1;
            for (var j = 0; j <= k; j++)
            {
                if (j > 0) comb = comb * (k - j + 1) / j;
                result[j] += coef * comb * Math.Pow(-mean, k - j);
            }
        }
        return result;
    }
}
