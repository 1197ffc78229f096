using System.CommandLine;
using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Reliability;
using Spectre.Console;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl fuzz [--target T] [--cases N] [--seed S] [--jpeg FILE…] [--json]</c>: the seeded input fuzzer.</summary>
[CliCommand]
public static class FuzzCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "hocon | png | png-crc-fixed | jpeg | cfu | safetensors | all.", DefaultValueFactory = _ => "all" };
        var cases = new Option<int>("--cases") { Description = "Mutated inputs per target.", DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the mutations (same seed, same cases).", DefaultValueFactory = _ => 1 };
        var jpeg = new Option<string[]>("--jpeg") { Description = "JPEG files to mutate (default: the first two of <data root>/bsds500/train).", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print the reports as JSON." };
        var command = new Command("fuzz", "Feed thousands of mutated HOCON, PNG, JPEG, .cfu and safetensors inputs to their parsers: every one must be " +
            "accepted or refused with the format's own error, within a per-case allocation budget. Exit 1 on any crash.")
        {
            target, cases, seed, jpeg, json,
        };
        command.SetAction(r =>
        {
            var n = r.GetValue(cases);
            if (n < 1) throw new CliException($"error: --cases {n}: a whole number >= 1");
            var jpegs = r.GetValue(jpeg) is { Length: > 0 } given ? given : DefaultJpegs();
            var jpegSeeds = new List<byte[]>();
            foreach (var f in jpegs)
            {
                try { jpegSeeds.Add(File.ReadAllBytes(f)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"error: --jpeg {f}: {e.Message}"); }
            }
            var all = InputFuzzer.Targets([ReferenceConfig.Text, Sample], jpegSeeds);
            var wanted = r.GetValue(target)!;
            var chosen = wanted == "all" ? all : all.Where(t => t.Name == wanted).ToList();
            if (chosen.Count == 0)
                throw new CliException($"error: --target {wanted}: one of {string.Join(", ", all.Select(t => t.Name))}, all" +
                    (wanted == "jpeg" ? " (no JPEG seed: give --jpeg FILE)" : ""));
            var reports = chosen.Select(t => InputFuzzer.Run(t, n, r.GetValue(seed))).ToList();
            if (r.GetValue(json)) Console.WriteLine(new JsonArray(reports.Select(x => (JsonNode)x.ToJson()).ToArray()).ToJsonString());
            else
            {
                var table = new Table().AddColumns("target", "cases", "accepted", "refused", "crashes", "max allocated / case");
                foreach (var x in reports)
                    table.AddRow(x.Target, $"{x.Cases}", $"{x.Accepted}", $"{x.Refused}", x.Crashes == 0 ? "0" : $"[red]{x.Crashes}[/]", $"{x.MaxAllocatedBytes / 1024.0:F0} KiB");
                AnsiConsole.Write(table);
                foreach (var x in reports)
                {
                    foreach (var (m, c) in x.TopRefusals) Console.WriteLine($"{x.Target}: {c} x {m}");
                    foreach (var s in x.Samples) Console.Error.WriteLine($"{x.Target}: crash: {s}");
                }
            }
            return reports.Any(x => x.Crashes > 0) ? 1 : 0;
        });
        return command;
    }

    /// <summary>A configuration using what the parser supports: includes, substitutions, lists of objects, durations, unicode.</summary>
    private const string Sample = """
        include "no-such-file.conf"
        cofusfl {
          seed = 7
          run { name = "fuzz-${?USER}", rounds = 3 }
          model { name = "bmshj2018-hyperprior", n = 16, m = 24 }
          federation { clients = 4, round-deadline = 30 s, personal = ["feature1.*"] }
          faults.rules = [{ from = "client", to = "server", drop = 0.1 }, { from = "*", duplicate = 0.01 }]
          base = { a = 1, b = [1, 2, 3] }
          derived = ${cofusfl.base} { c = "ü€" }
          list = ${cofusfl.base.b} [4, 5]
        }
        """;

    private static string[] DefaultJpegs()
    {
        var dir = Path.Combine(SimulationConfig.ResolveRoot(Environment.GetEnvironmentVariable("COFUSFL_DATA") ?? "../shared/datasets"), "bsds500", "train");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*.jpg").Order(StringComparer.Ordinal).Take(2).ToArray() : [];
    }
}
