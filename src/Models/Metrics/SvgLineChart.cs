using System.Globalization;
using System.Security;
using System.Text;

namespace CoFUsfl.Models.Metrics;

/// <summary>Marker drawn at each data point of a series.</summary>
public enum MarkerShape
{
    /// <summary>Pick by series order.</summary>
    Auto,
    /// <summary>Filled circle.</summary>
    Circle,
    /// <summary>Filled square.</summary>
    Square,
    /// <summary>Filled upward triangle.</summary>
    Triangle,
    /// <summary>Filled diamond.</summary>
    Diamond,
    /// <summary>No marker, line only.</summary>
    None,
}

/// <summary>
/// A small, dependency-free SVG line chart: several named series with markers, a legend, "nice" axis ticks with
/// labels, grid lines and a title. Used for rate–distortion plots (<see cref="RdPlot"/>) and any metric-versus-x
/// plot (PSNR vs round, bytes vs round, …). Points with NaN or infinite coordinates are left out.
/// </summary>
public sealed class SvgLineChart
{
    private static readonly string[] Palette =
        ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private readonly List<Series> _series = [];

    private sealed record Series(string Name, double[] X, double[] Y, string Color, MarkerShape Marker, bool Dashed);

    /// <summary>Creates an empty chart.</summary>
    public SvgLineChart(string title, string xLabel, string yLabel, int width = 720, int height = 480)
    {
        if (width < 200 || height < 150) throw new ArgumentOutOfRangeException(nameof(width), $"chart {width}x{height} is too small (min 200x150)");
        Title = title; XLabel = xLabel; YLabel = yLabel; Width = width; Height = height;
    }

    /// <summary>Chart title.</summary>
    public string Title { get; set; }
    /// <summary>X axis label.</summary>
    public string XLabel { get; set; }
    /// <summary>Y axis label.</summary>
    public string YLabel { get; set; }
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>Fixed axis limits; null = fitted to the data with nice round bounds.</summary>
    public double? XMin { get; set; }
    /// <inheritdoc cref="XMin"/>
    public double? XMax { get; set; }
    /// <inheritdoc cref="XMin"/>
    public double? YMin { get; set; }
    /// <inheritdoc cref="XMin"/>
    public double? YMax { get; set; }
    /// <summary>Where the legend goes.</summary>
    public LegendPosition Legend { get; set; } = LegendPosition.BottomRight;

    /// <summary>Number of series added.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Adds a series; <paramref name="color"/> is any SVG colour (default: a 10-colour palette by order).</summary>
    public SvgLineChart AddSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, string? color = null,
        MarkerShape marker = MarkerShape.Auto, bool dashed = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"series '{name}': {x.Count} x values but {y.Count} y values");
        var i = _series.Count;
        if (marker == MarkerShape.Auto) marker = (MarkerShape)(1 + i % 4);
        _series.Add(new Series(name, x.ToArray(), y.ToArray(), color ?? Palette[i % Palette.Length], marker, dashed));
        return this;
    }

    /// <summary>Writes the SVG to <paramref name="path"/> (creating the folder).</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, ToSvg(), new UTF8Encoding(false));
    }

    /// <summary>The chart as a standalone SVG document.</summary>
    public string ToSvg()
    {
        const double left = 70, right = 20, top = 44, bottom = 56;
        double pw = Width - left - right, ph = Height - top - bottom;

        var xs = _series.SelectMany(s => s.X.Where((v, k) => Finite(v, s.Y[k]))).ToList();
        var ys = _series.SelectMany(s => s.Y.Where((v, k) => Finite(s.X[k], v))).ToList();
        var (x0, x1, xTicks) = Axis(XMin ?? (xs.Count > 0 ? xs.Min() : 0), XMax ?? (xs.Count > 0 ? xs.Max() : 1), XMin.HasValue, XMax.HasValue);
        var (y0, y1, yTicks) = Axis(YMin ?? (ys.Count > 0 ? ys.Min() : 0), YMax ?? (ys.Count > 0 ? ys.Max() : 1), YMin.HasValue, YMax.HasValue);
        double Px(double v) => left + (v - x0) / (x1 - x0) * pw;
        double Py(double v) => top + ph - (v - y0) / (y1 - y0) * ph;

        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        sb.Append($"<title>{Esc(Title)}</title>\n");
        sb.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        sb.Append($"<text class=\"title\" x=\"{F(Width / 2.0)}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{Esc(Title)}</text>\n");

        // Grid and ticks.
        sb.Append("<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
        foreach (var t in xTicks) sb.Append($"<line x1=\"{F(Px(t))}\" y1=\"{F(top)}\" x2=\"{F(Px(t))}\" y2=\"{F(top + ph)}\"/>\n");
        foreach (var t in yTicks) sb.Append($"<line x1=\"{F(left)}\" y1=\"{F(Py(t))}\" x2=\"{F(left + pw)}\" y2=\"{F(Py(t))}\"/>\n");
        sb.Append("</g>\n");
        sb.Append($"<rect class=\"plot-area\" x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(pw)}\" height=\"{F(ph)}\" fill=\"none\" stroke=\"#333\"/>\n");
        sb.Append("<g class=\"x-ticks\" text-anchor=\"middle\">\n");
        foreach (var t in xTicks)
            sb.Append($"<line x1=\"{F(Px(t))}\" y1=\"{F(top + ph)}\" x2=\"{F(Px(t))}\" y2=\"{F(top + ph + 5)}\" stroke=\"#333\"/><text x=\"{F(Px(t))}\" y=\"{F(top + ph + 19)}\">{Label(t, xTicks)}</text>\n");
        sb.Append("</g>\n<g class=\"y-ticks\" text-anchor=\"end\">\n");
        foreach (var t in yTicks)
            sb.Append($"<line x1=\"{F(left - 5)}\" y1=\"{F(Py(t))}\" x2=\"{F(left)}\" y2=\"{F(Py(t))}\" stroke=\"#333\"/><text x=\"{F(left - 8)}\" y=\"{F(Py(t) + 4)}\">{Label(t, yTicks)}</text>\n");
        sb.Append("</g>\n");
        sb.Append($"<text class=\"x-label\" x=\"{F(left + pw / 2)}\" y=\"{F(Height - 14)}\" text-anchor=\"middle\" font-size=\"13\">{Esc(XLabel)}</text>\n");
        sb.Append($"<text class=\"y-label\" x=\"16\" y=\"{F(top + ph / 2)}\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 16 {F(top + ph / 2)})\">{Esc(YLabel)}</text>\n");

        // Series, clipped to the plot area.
        sb.Append($"<clipPath id=\"plot\"><rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(pw)}\" height=\"{F(ph)}\"/></clipPath>\n");
        sb.Append("<g class=\"series-group\" clip-path=\"url(#plot)\">\n");
        foreach (var s in _series)
        {
            var pts = Enumerable.Range(0, s.X.Length).Where(k => Finite(s.X[k], s.Y[k])).Select(k => (X: Px(s.X[k]), Y: Py(s.Y[k]))).ToList();
            sb.Append($"<g class=\"series\" data-name=\"{Esc(s.Name)}\">\n");
            if (pts.Count > 1)
                sb.Append($"<polyline fill=\"none\" stroke=\"{Esc(s.Color)}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")} points=\"{string.Join(' ', pts.Select(p => $"{F(p.X)},{F(p.Y)}"))}\"/>\n");
            foreach (var p in pts) sb.Append(Marker(s.Marker, p.X, p.Y, s.Color)).Append('\n');
            sb.Append("</g>\n");
        }
        sb.Append("</g>\n");

        // Legend.
        if (_series.Count > 0)
        {
            var lw = 40 + 7.0 * _series.Max(s => s.Name.Length);
            var lh = 8 + 18.0 * _series.Count;
            var lx = Legend is LegendPosition.TopLeft or LegendPosition.BottomLeft ? left + 10 : left + pw - lw - 10;
            var ly = Legend is LegendPosition.TopLeft or LegendPosition.TopRight ? top + 10 : top + ph - lh - 10;
            sb.Append($"<g class=\"legend\">\n<rect x=\"{F(lx)}\" y=\"{F(ly)}\" width=\"{F(lw)}\" height=\"{F(lh)}\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n");
            for (var i = 0; i < _series.Count; i++)
            {
                var s = _series[i];
                var cy = ly + 13 + 18 * i;
                sb.Append($"<line x1=\"{F(lx + 6)}\" y1=\"{F(cy)}\" x2=\"{F(lx + 28)}\" y2=\"{F(cy)}\" stroke=\"{Esc(s.Color)}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")}/>");
                sb.Append(Marker(s.Marker, lx + 17, cy, s.Color));
                sb.Append($"<text x=\"{F(lx + 34)}\" y=\"{F(cy + 4)}\">{Esc(s.Name)}</text>\n");
            }
            sb.Append("</g>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static bool Finite(double x, double y) => double.IsFinite(x) && double.IsFinite(y);

    private static string Marker(MarkerShape m, double x, double y, string color) => m switch
    {
        MarkerShape.Circle => $"<circle cx=\"{F(x)}\" cy=\"{F(y)}\" r=\"3.5\" fill=\"{Esc(color)}\"/>",
        MarkerShape.Square => $"<rect x=\"{F(x - 3.2)}\" y=\"{F(y - 3.2)}\" width=\"6.4\" height=\"6.4\" fill=\"{Esc(color)}\"/>",
        MarkerShape.Triangle => $"<polygon points=\"{F(x)},{F(y - 4.2)} {F(x - 4)},{F(y + 3)} {F(x + 4)},{F(y + 3)}\" fill=\"{Esc(color)}\"/>",
        MarkerShape.Diamond => $"<polygon points=\"{F(x)},{F(y - 4.5)} {F(x + 4.5)},{F(y)} {F(x)},{F(y + 4.5)} {F(x - 4.5)},{F(y)}\" fill=\"{Esc(color)}\"/>",
        _ => "",
    };

    /// <summary>Axis range and ticks at 1, 2 or 5 × 10^k steps, about 5–10 of them; fixed limits are kept as given.</summary>
    internal static (double Lo, double Hi, List<double> Ticks) Axis(double lo, double hi, bool fixedLo, bool fixedHi)
    {
        if (!(hi > lo))
        {
            var pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1;
            (lo, hi) = (lo - pad, hi + pad);
        }
        var step = NiceStep((hi - lo) / 6);
        if (!fixedLo) lo = Math.Floor(lo / step + 1e-9) * step;
        if (!fixedHi) hi = Math.Ceiling(hi / step - 1e-9) * step;
        var ticks = new List<double>();
        for (var t = Math.Ceiling(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
            ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        return (lo, hi, ticks);
    }

    private static double NiceStep(double raw)
    {
        var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var f = raw / mag;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    }

    private static string Label(double v, List<double> ticks)
    {
        var step = ticks.Count > 1 ? ticks[1] - ticks[0] : 1;
        var decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        return v.ToString("F" + Math.Min(decimals, 6), CultureInfo.InvariantCulture);
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Esc(string s) => SecurityElement.Escape(s) ?? "";
}

/// <summary>Corner of the plot area for the legend.</summary>
public enum LegendPosition
{
    /// <summary>Lower right: usually empty on rate–distortion plots, whose curves flatten towards the upper right.</summary>
    BottomRight,
    /// <summary>Upper left.</summary>
    TopLeft,
    /// <summary>Upper right.</summary>
    TopRight,
    /// <summary>Lower left.</summary>
    BottomLeft,
}

