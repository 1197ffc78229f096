using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CoFUsfl.Simulation.Metrics;

/// <summary>A named series of (x, y) points for <see cref="Plots.LineChart"/>.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>The SVG plots of a run folder and of <c>cofusfl compare</c>.</summary>
public static class Plots
{
    /// <summary>PSNR vs round, bytes vs round, PSNR vs cumulative bytes, simulated time per round.</summary>
    public static void Write(string dir, IReadOnlyList<JsonObject> rounds)
    {
        if (rounds.Count == 0) return;
        double D(JsonNode? n) => n?.GetValue<double>() ?? double.NaN;
        var r = rounds.Select(x => (double)x["round"]!.GetValue<uint>()).ToList();
        var trainPsnr = rounds.Select(x => D(x["train"]?["psnr"])).ToList();
        var evals = rounds.Where(x => x["eval"] is not null).ToList();
        var cumulative = new List<double>();
        double acc = 0;
        foreach (var x in rounds) { acc += x["bytes_transfers_round"]!.GetValue<long>(); cumulative.Add(acc / 1e6); }
        var psnrSeries = new List<Series> { new("train PSNR (crops)", r, trainPsnr) };
        if (evals.Count > 0) psnrSeries.Add(new("eval PSNR (bitstreams)", evals.Select(x => (double)x["round"]!.GetValue<uint>()).ToList(), evals.Select(x => D(x["eval"]!["psnr"])).ToList()));
        File.WriteAllText(Path.Combine(dir, "psnr_vs_round.svg"), LineChart("PSNR vs round", "round", "PSNR (dB)", psnrSeries));
        File.WriteAllText(Path.Combine(dir, "bytes_vs_round.svg"), LineChart("Communication per round", "round", "MB (transfers [1]-[4])",
            [new("transfers", r, rounds.Select(x => x["bytes_transfers_round"]!.GetValue<long>() / 1e6).ToList()),
             new("all messages", r, rounds.Select(x => x["bytes_round"]!.GetValue<long>() / 1e6).ToList())]));
        File.WriteAllText(Path.Combine(dir, "psnr_vs_bytes.svg"), LineChart("PSNR vs cumulative communication", "cumulative MB (transfers)", "train PSNR (dB)",
            [new("train PSNR", cumulative, trainPsnr)]));
        File.WriteAllText(Path.Combine(dir, "simulated_time.svg"), LineChart("Simulated time per round", "round", "seconds",
            [new("round time", r, rounds.Select(x => D(x["round_simulated_s"])).ToList())]));
    }

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    /// <summary>A line chart with markers, axes with ticks, and a legend; NaN points are skipped.</summary>
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series)
    {
        const int w = 640, h = 420, left = 70, right = 170, top = 40, bottom = 50;
        var pts = series.SelectMany(s => s.X.Zip(s.Y)).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToList();
        var (x0, x1) = Range(pts.Select(p => p.First));
        var (y0, y1) = Range(pts.Select(p => p.Second));
        double Sx(double x) => left + (x - x0) / (x1 - x0) * (w - left - right);
        double Sy(double y) => h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n<text x=\"{w / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Esc(title)}</text>\n");
        sb.Append($"<line x1=\"{left}\" y1=\"{h - bottom}\" x2=\"{w - right}\" y2=\"{h - bottom}\" stroke=\"black\"/>\n<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{h - bottom}\" stroke=\"black\"/>\n");
        for (var i = 0; i <= 5; i++)
        {
            var xv = x0 + (x1 - x0) * i / 5;
            var yv = y0 + (y1 - y0) * i / 5;
            sb.Append($"<line x1=\"{F(Sx(xv))}\" y1=\"{h - bottom}\" x2=\"{F(Sx(xv))}\" y2=\"{h - bottom + 5}\" stroke=\"black\"/><text x=\"{F(Sx(xv))}\" y=\"{h - bottom + 18}\" text-anchor=\"middle\">{Tick(xv)}</text>\n");
            sb.Append($"<line x1=\"{left - 5}\" y1=\"{F(Sy(yv))}\" x2=\"{w - right}\" y2=\"{F(Sy(yv))}\" stroke=\"#ddd\"/><text x=\"{left - 8}\" y=\"{F(Sy(yv) + 4)}\" text-anchor=\"end\">{Tick(yv)}</text>\n");
        }
        sb.Append($"<text x=\"{(left + w - right) / 2}\" y=\"{h - 12}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        sb.Append($"<text x=\"16\" y=\"{(top + h - bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(top + h - bottom) / 2})\">{Esc(yLabel)}</text>\n");
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var c = Colors[i % Colors.Length];
            var p = s.X.Zip(s.Y).Where(q => double.IsFinite(q.First) && double.IsFinite(q.Second)).OrderBy(q => q.First).ToList();
            if (p.Count > 1) sb.Append($"<polyline class=\"series\" data-name=\"{Esc(s.Name)}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{string.Join(" ", p.Select(q => $"{F(Sx(q.First))},{F(Sy(q.Second))}"))}\"/>\n");
            foreach (var q in p) sb.Append($"<circle cx=\"{F(Sx(q.First))}\" cy=\"{F(Sy(q.Second))}\" r=\"3\" fill=\"{c}\"/>\n");
            var ly = top + 10 + i * 18;
            sb.Append($"<rect x=\"{w - right + 12}\" y=\"{ly - 8}\" width=\"12\" height=\"4\" fill=\"{c}\"/><text class=\"legend\" x=\"{w - right + 30}\" y=\"{ly - 2}\">{Esc(s.Name)}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static (double, double) Range(IEnumerable<double> values)
    {
        var v = values.ToList();
        if (v.Count == 0) return (0, 1);
        double lo = v.Min(), hi = v.Max();
        if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
        var pad = (hi - lo) * 0.05;
        return (lo - pad, hi + pad);
    }

    private static string Tick(double v) => Math.Abs(v) >= 1000 ? v.ToString("0.#e0", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);
    private static string Esc(string s) => System.Security.SecurityElement.Escape(s) ?? "";
}
