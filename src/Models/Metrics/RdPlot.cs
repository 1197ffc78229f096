namespace CoFUsfl.Models.Metrics;

/// <summary>Quality axis of an RD plot.</summary>
public enum RdMetric
{
    /// <summary>PSNR (dB).</summary>
    Psnr,
    /// <summary>MS-SSIM in dB, −10·log10(1 − MS-SSIM) (taken from MS-SSIM values or from MS-SSIM dB values).</summary>
    MsSsimDb,
}

/// <summary>Rate–distortion plots: bpp on x, PSNR (or MS-SSIM dB) on y, one series per <see cref="RdCurve"/>.</summary>
public static class RdPlot
{
    /// <summary>A chart of <paramref name="curves"/> (in order); curves without the metric are left out.</summary>
    public static SvgLineChart Create(IEnumerable<RdCurve> curves, string title = "Rate–distortion on Kodak", RdMetric metric = RdMetric.Psnr)
    {
        ArgumentNullException.ThrowIfNull(curves);
        var chart = new SvgLineChart(title, "Bit-rate (bpp)", metric == RdMetric.Psnr ? "PSNR (dB)" : "MS-SSIM (dB)");
        foreach (var c in curves)
        {
            var y = metric == RdMetric.Psnr ? c.Psnr : c.MsSsimDb ?? c.MsSsim?.Select(MsSsim.ToDb).ToArray();
            if (y is null) continue;
            // Sort by rate so the line does not zig-zag when points were stored out of order.
            var order = Enumerable.Range(0, c.Bpp.Length).OrderBy(i => c.Bpp[i]).ToArray();
            chart.AddSeries(c.Name, order.Select(i => c.Bpp[i]).ToArray(), order.Select(i => y[i]).ToArray());
        }
        return chart;
    }

    /// <summary>Writes <see cref="Create"/>'s chart to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<RdCurve> curves, string title = "Rate–distortion on Kodak", RdMetric metric = RdMetric.Psnr) =>
        Create(curves, title, metric).Save(path);
}
