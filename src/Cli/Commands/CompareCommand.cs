using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Metrics;
using Spectre.Console;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl compare RUN_DIR…</c>: runs side by side, with the communication reduction against the first.</summary>
[CliCommand]
public static class CompareCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run folders (the first is the baseline).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "SVG of eval PSNR vs cumulative transfer bytes (default: compare.svg in the working directory)." };
        var json = new Option<bool>("--json") { Description = "Print the comparison as JSON." };
        var command = new Command("compare", "Compare run folders: feature and protocol bytes, reductions against the first run at matched steps and to reach its final Kodak PSNR, Kodak PSNR/bpp.") { runs, output, json };
        command.SetAction(r =>
        {
            var loaded = new List<(string Dir, JsonObject Summary, List<JsonObject> Rounds)>();
            foreach (var dir in r.GetValue(runs)!)
            {
                var summaryPath = Path.Combine(dir, "summary.json");
                var metricsPath = Path.Combine(dir, "metrics.jsonl");
                try
                {
                    var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
                    var rounds = File.ReadLines(metricsPath).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
                    loaded.Add((dir, summary, rounds));
                }
                catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or UnauthorizedAccessException)
                {
                    throw new CliException($"error: {dir} is not a finished run folder ({e.Message})");
                }
            }
            var compared = Comparison.Compare(loaded.Select(l => Comparison.Figures(new RunFolder(l.Dir, l.Summary, l.Rounds))).ToList());
            var result = new JsonArray();
            foreach (var c in compared)
            {
                var o = Comparison.ToJson(c);
                var s = loaded.First(l => l.Dir == c.Run.Dir).Summary;
                o["rounds"] = s["rounds"]?.GetValue<int>();
                o["bytes_transfers"] = s["bytes_transfers"]?.GetValue<long>();
                o["bytes_total"] = s["bytes_total"]?.GetValue<long>();
                o["reduction_vs_first"] = c.ProtocolReduction;
                o["split"] = s["split"]?.DeepClone();
                result.Add(o);
            }
            if (r.GetValue(json)) Console.WriteLine(result.ToJsonString());
            else
            {
                static string X(double? v) => v is { } x && double.IsFinite(x) ? $"{x:F2}x" : "-";
                static string Pct(double v) => double.IsFinite(v) ? $"{100 / v:G3} %" : "-";
                var target = compared[0].Run.KodakPsnr;
                static string Mb(double b) => b >= 1e8 ? $"{b / 1e6:F0}" : b >= 1e6 ? $"{b / 1e6:F1}" : $"{b / 1e6:F3}";
                var table = new Table().AddColumns("run", "rounds", "features MB", "reduction", "protocol MB", "reduction", "Kodak PSNR", "bpp");
                foreach (var c in compared)
                    table.AddRow(Markup.Escape(c.Run.Name), $"{loaded.First(l => l.Dir == c.Run.Dir).Summary["rounds"]}",
                        Mb(c.Run.FeatureBytes), $"{X(c.FeatureReduction)} ({Pct(c.FeatureReduction)})",
                        Mb(c.Run.ProtocolBytes), $"{X(c.ProtocolReduction)} ({Pct(c.ProtocolReduction)})",
                        c.Run.KodakPsnr is { } p ? $"{p:F2}" : "-", c.Run.KodakBpp is { } b ? $"{b:F4}" : "-");
                AnsiConsole.Write(table);
                var reach = new Table().AddColumns("run", $"to {(target is { } t ? $"{t:F2} dB" : "the first run's PSNR")}: features MB", "reduction", "protocol MB", "reduction");
                foreach (var c in compared)
                    reach.AddRow(Markup.Escape(c.Run.Name), c.FeatureBytesToTarget is { } f ? Mb(f) : "not reached", X(c.FeatureReductionToTarget),
                        c.ProtocolBytesToTarget is { } q ? Mb(q) : "not reached", X(c.ProtocolReductionToTarget));
                AnsiConsole.Write(reach);
                AnsiConsole.MarkupLine("reduction = the first run's bytes / this run's (matched steps; and until Kodak PSNR first reaches the first run's final PSNR); " +
                                       "in brackets this run's bytes as a share of the first's. features = transfers [[1]]+[[2]], protocol = [[1]]-[[4]].");
            }
            var series = loaded.Select(l =>
            {
                double acc = 0;
                var xs = new List<double>();
                var ys = new List<double>();
                foreach (var round in l.Rounds)
                {
                    acc += round["bytes_transfers_round"]!.GetValue<long>();
                    if (round["eval"]?["psnr"] is { } p) { xs.Add(acc / 1e6); ys.Add(p.GetValue<double>()); }
                }
                return new Series(l.Summary["name"]?.GetValue<string>() ?? l.Dir, xs, ys);
            }).ToList();
            var svg = r.GetValue(output) ?? "compare.svg";
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(svg))!);
            File.WriteAllText(svg, Plots.LineChart("Eval PSNR vs cumulative communication", "cumulative MB (transfers [1]-[4])", "PSNR (dB)", series));
            if (!r.GetValue(json)) AnsiConsole.MarkupLine($"plot: [bold]{Markup.Escape(svg)}[/]");
            return 0;
        });
        return command;
    }
}
