using System.Text.Json.Nodes;
using CoFUsfl.Models.Metrics;

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

    /// <summary>A line chart of named series (NaN points skipped), drawn by the Models room's <see cref="SvgLineChart"/>.</summary>
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series)
    {
        var chart = new SvgLineChart(title, xLabel, yLabel) { Legend = LegendPosition.TopRight };
        foreach (var s in series)
        {
            var p = s.X.Zip(s.Y).Where(q => double.IsFinite(q.First) && double.IsFinite(q.Second)).ToList();
            if (p.Count > 0) chart.AddSeries(s.Name, p.Select(q => q.First).ToList(), p.Select(q => q.Second).ToList());
        }
        return chart.ToSvg();
    }
}
