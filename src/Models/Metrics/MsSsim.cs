using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Metrics;

/// <summary>
/// Multi-scale SSIM (Wang, Simoncelli, Bovik 2003) exactly as pytorch-msssim computes it (and CompressAI reports):
/// 11-tap Gaussian window with σ 1.5 applied separably without padding ("valid"), K1 0.01, K2 0.03, 5 scales
/// weighted [0.0448, 0.2856, 0.3001, 0.2363, 0.1333], ReLU on the per-scale terms, 2×2 average pooling between
/// scales with one zero of padding on each side of an odd dimension (counted in the mean), the result averaged over
/// channels. Computed in double precision.
/// </summary>
public static class MsSsim
{
    /// <summary>The five scale weights.</summary>
    public static readonly double[] Weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
    private const int WinSize = 11;
    private const double Sigma = 1.5, K1 = 0.01, K2 = 0.03;
    private static readonly double[] Window = GaussianWindow();

    private static double[] GaussianWindow()
    {
        var g = new double[WinSize];
        for (var i = 0; i < WinSize; i++)
        {
            double c = i - WinSize / 2;
            g[i] = Math.Exp(-(c * c) / (2 * Sigma * Sigma));
        }
        var sum = g.Sum();
        for (var i = 0; i < WinSize; i++) g[i] /= sum;
        return g;
    }

    /// <summary>MS-SSIM in decibels, −10·log10(1 − value), as CompressAI's plots report it.</summary>
    public static double ToDb(double value) => -10 * Math.Log10(1 - value);

    /// <summary>The smaller image side must exceed (11 − 1) · 2^4 = 160 pixels (pytorch-msssim's requirement).</summary>
    public const int MinSide = (WinSize - 1) * 16 + 1;

    /// <summary>MS-SSIM of two 8-bit images (RGB after normalisation), data range 255.</summary>
    public static double Compute(Image reference, Image test)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (reference.Width != test.Width || reference.Height != test.Height)
            throw new ArgumentException($"sizes differ: {reference.Width}x{reference.Height} vs {test.Width}x{test.Height}");
        var a = ImageConvert.ToRgb8(reference).Data8;
        var b = ImageConvert.ToRgb8(test).Data8;
        int w = reference.Width, h = reference.Height, plane = w * h;
        var ca = new double[3 * plane];
        var cb = new double[3 * plane];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
            {
                ca[c * plane + i] = a[3 * i + c];
                cb[c * plane + i] = b[3 * i + c];
            }
        return ComputeCore(ca, cb, 3, h, w, 255);
    }

    /// <summary>MS-SSIM of two float CHW arrays (<paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/>).</summary>
    /// <param name="dataRange">1 for [0, 1] data (CompressAI's evaluation), 255 for 8-bit scaled data.</param>
    public static double Compute(ReadOnlySpan<float> reference, ReadOnlySpan<float> test, int channels, int height, int width, double dataRange = 1.0)
    {
        var n = (long)channels * height * width;
        if (channels <= 0 || reference.Length != n || test.Length != n)
            throw new ArgumentException($"expected {channels}x{height}x{width} = {n} floats, got {reference.Length} and {test.Length}");
        var ca = new double[n];
        var cb = new double[n];
        for (var i = 0; i < n; i++) { ca[i] = reference[i]; cb[i] = test[i]; }
        return ComputeCore(ca, cb, channels, height, width, dataRange);
    }

    private static double ComputeCore(double[] x, double[] y, int channels, int height, int width, double dataRange)
    {
        if (Math.Min(height, width) < MinSide)
            throw new ArgumentException($"MS-SSIM needs both sides ≥ {MinSide} pixels (4 downsamplings of an 11-tap window); got {width}x{height}");
        if (!(dataRange > 0)) throw new ArgumentOutOfRangeException(nameof(dataRange), dataRange, "data range must be positive");
        var c1 = K1 * dataRange * K1 * dataRange;
        var c2 = K2 * dataRange * K2 * dataRange;
        var total = 0.0;
        for (var c = 0; c < channels; c++)
        {
            var plane = height * width;
            var xa = x.AsSpan(c * plane, plane).ToArray();
            var ya = y.AsSpan(c * plane, plane).ToArray();
            int h = height, w = width;
            var product = 1.0;
            for (var level = 0; level < Weights.Length; level++)
            {
                var (ssim, cs) = Ssim(xa, ya, h, w, c1, c2);
                if (level < Weights.Length - 1)
                {
                    product *= Math.Pow(Math.Max(cs, 0), Weights[level]);
                    (xa, var h2, var w2) = AvgPool(xa, h, w);
                    (ya, _, _) = AvgPool(ya, h, w);
                    (h, w) = (h2, w2);
                }
                else product *= Math.Pow(Math.Max(ssim, 0), Weights[level]);
            }
            total += product;
        }
        return total / channels;
    }

    /// <summary>Mean SSIM and mean contrast-structure term over the valid region of one plane.</summary>
    private static (double Ssim, double Cs) Ssim(double[] x, double[] y, int h, int w, double c1, double c2)
    {
        var fw = w - WinSize + 1;
        var fh = h - WinSize + 1;
        // Horizontal pass for the 5 moment maps, then vertical.
        var hx = new double[h * fw];
        var hy = new double[h * fw];
        var hxx = new double[h * fw];
        var hyy = new double[h * fw];
        var hxy = new double[h * fw];
        var g = Window;
        for (var r = 0; r < h; r++)
        {
            var row = r * w;
            for (var j = 0; j < fw; j++)
            {
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (var k = 0; k < WinSize; k++)
                {
                    var a = x[row + j + k];
                    var b = y[row + j + k];
                    var gk = g[k];
                    sx += gk * a; sy += gk * b; sxx += gk * a * a; syy += gk * b * b; sxy += gk * a * b;
                }
                var o = r * fw + j;
                hx[o] = sx; hy[o] = sy; hxx[o] = sxx; hyy[o] = syy; hxy[o] = sxy;
            }
        }
        double ssimSum = 0, csSum = 0;
        for (var r = 0; r < fh; r++)
            for (var j = 0; j < fw; j++)
            {
                double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
                for (var k = 0; k < WinSize; k++)
                {
                    var o = (r + k) * fw + j;
                    var gk = g[k];
                    mx += gk * hx[o]; my += gk * hy[o]; mxx += gk * hxx[o]; myy += gk * hyy[o]; mxy += gk * hxy[o];
                }
                var s1 = mxx - mx * mx;
                var s2 = myy - my * my;
                var s12 = mxy - mx * my;
                var cs = (2 * s12 + c2) / (s1 + s2 + c2);
                csSum += cs;
                ssimSum += (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs;
            }
        var n = (double)fh * fw;
        return (ssimSum / n, csSum / n);
    }

    /// <summary>F.avg_pool2d(kernel 2, stride 2, padding = size mod 2 per dimension, count_include_pad) on one plane.</summary>
    private static (double[] Plane, int H, int W) AvgPool(double[] p, int h, int w)
    {
        int padH = h % 2, padW = w % 2;
        var oh = (h + 2 * padH - 2) / 2 + 1;
        var ow = (w + 2 * padW - 2) / 2 + 1;
        var o = new double[oh * ow];
        for (var i = 0; i < oh; i++)
            for (var j = 0; j < ow; j++)
            {
                double s = 0;
                for (var di = 0; di < 2; di++)
                {
                    var r = 2 * i + di - padH;
                    if (r < 0 || r >= h) continue;
                    for (var dj = 0; dj < 2; dj++)
                    {
                        var c = 2 * j + dj - padW;
                        if (c >= 0 && c < w) s += p[r * w + c];
                    }
                }
                o[i * ow + j] = s / 4;
            }
        return (o, oh, ow);
    }
}
