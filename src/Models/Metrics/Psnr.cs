using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Metrics;

/// <summary>Peak signal-to-noise ratio and bits per pixel.</summary>
public static class Psnr
{
    /// <summary>10·log10(max² / mse); +∞ for identical inputs.</summary>
    public static double FromMse(double mse, double max = 255) =>
        mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(max * max / mse);

    /// <summary>PSNR (max 255) over all RGB samples of two 8-bit images of the same size (gray/alpha normalised to RGB first).</summary>
    public static double Compute(Image reference, Image test)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (reference.Width != test.Width || reference.Height != test.Height)
            throw new ArgumentException($"sizes differ: {reference.Width}x{reference.Height} vs {test.Width}x{test.Height}");
        var a = ImageConvert.ToRgb8(reference).Data8;
        var b = ImageConvert.ToRgb8(test).Data8;
        long sse = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            sse += d * d;
        }
        return FromMse((double)sse / a.Length);
    }

    /// <summary>
    /// PSNR (max 255) after quantizing both float CHW arrays in [0, 1] to 8 bits (round half to even, clamp):
    /// the figure an image saved as PNG would give.
    /// </summary>
    public static double ComputeRounded(ReadOnlySpan<float> reference, ReadOnlySpan<float> test)
    {
        if (reference.Length != test.Length) throw new ArgumentException($"lengths differ: {reference.Length} vs {test.Length}");
        if (reference.IsEmpty) throw new ArgumentException("empty input");
        long sse = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            var d = ImageConvert.ToByte(reference[i]) - ImageConvert.ToByte(test[i]);
            sse += d * d;
        }
        return FromMse((double)sse / reference.Length);
    }

    /// <summary>PSNR of float arrays without rounding (CompressAI's <c>psnr</c> on [0, 1] tensors uses <paramref name="dataRange"/> 1).</summary>
    public static double ComputeFloat(ReadOnlySpan<float> reference, ReadOnlySpan<float> test, double dataRange = 1.0)
    {
        if (reference.Length != test.Length) throw new ArgumentException($"lengths differ: {reference.Length} vs {test.Length}");
        if (reference.IsEmpty) throw new ArgumentException("empty input");
        double sse = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            double d = reference[i] - test[i];
            sse += d * d;
        }
        return FromMse(sse / reference.Length, dataRange);
    }

    /// <summary>Bits per pixel: 8 · <paramref name="bytes"/> / (width · height).</summary>
    public static double Bpp(long bytes, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"size {width}x{height} must be positive");
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "byte count must be non-negative");
        return 8.0 * bytes / ((long)width * height);
    }
}
