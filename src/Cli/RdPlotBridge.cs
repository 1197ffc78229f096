using CoFUsfl.Models.Metrics;
using CoFUsfl.Simulation.Metrics;

namespace CoFUsfl.Cli;

/// <summary>Rate–distortion curves (PSNR vs bpp) as an SVG line chart.</summary>
internal static class RdPlotBridge
{
    public static string Render(string title, IReadOnlyList<RdCurve> curves) =>
        Plots.LineChart(title, "bits per pixel", "PSNR RGB (dB)", curves.Select(c => new Series(c.Name, c.Bpp, c.Psnr ?? [])).ToList());
}
