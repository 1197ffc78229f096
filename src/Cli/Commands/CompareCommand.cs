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
        var command = new Command("compare", "Compare run folders: bytes by transfer, reduction ratio against the first run, Kodak PSNR/bpp.") { runs, output, json };
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
            var baseline = loaded[0].Summary["bytes_transfers"]!.GetValue<long>();
            var result = new JsonArray();
            foreach (var (dir, s, _) in loaded)
            {
                var t = s["bytes_transfers"]!.GetValue<long>();
                result.Add(new JsonObject
                {
                    ["run"] = s["name"]?.GetValue<string>() ?? dir,
                    ["dir"] = dir,
                    ["rounds"] = s["rounds"]?.GetValue<int>(),
                    ["bytes_transfers"] = t,
                    ["bytes_total"] = s["bytes_total"]?.GetValue<long>(),
                    ["reduction_vs_first"] = t > 0 ? (double)baseline / t : null,
                    ["kodak_psnr"] = s["kodak"]?["psnr"]?.GetValue<double>(),
                    ["kodak_bpp"] = s["kodak"]?["bpp"]?.GetValue<double>(),
                    ["split"] = s["split"]?.DeepClone(),
                });
            }
            if (r.GetValue(json)) Console.WriteLine(result.ToJsonString());
            else
            {
                var table = new Table().AddColumns("run", "rounds", "transfer bytes", "reduction", "all bytes", "Kodak PSNR", "Kodak bpp");
                foreach (var o in result)
                    table.AddRow(Markup.Escape(o!["run"]!.GetValue<string>()), $"{o["rounds"]}", $"{o["bytes_transfers"]!.GetValue<long>():N0}",
                        o["reduction_vs_first"] is { } red ? $"{red.GetValue<double>():F2}x" : "-", $"{o["bytes_total"]?.GetValue<long>():N0}",
                        o["kodak_psnr"] is { } p ? $"{p.GetValue<double>():F2}" : "-", o["kodak_bpp"] is { } b ? $"{b.GetValue<double>():F4}" : "-");
                AnsiConsole.Write(table);
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
