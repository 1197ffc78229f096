using System.CommandLine;
using CoFUsfl.Bench;

namespace CoFUsfl.Cli.Commands;

/// <summary><c>cofusfl bench SUITE [--json] [--quick] [--device cpu|cuda]</c>: speed and memory figures (never tests).</summary>
[CliCommand]
public static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Run a benchmark suite and print medians measured in this run.");
        foreach (var suite in Measure.Suites())
        {
            var json = new Option<bool>("--json") { Description = "One JSON object per line." };
            var quick = new Option<bool>("--quick") { Description = "Fewer iterations (smoke run; do not report)." };
            var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
            var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
            var sub = new Command(suite.Name, suite.Description) { json, quick, device, seed };
            var s = suite;
            sub.SetAction(r =>
            {
                var options = new BenchOptions(r.GetValue(quick), r.GetValue(device)!, r.GetValue(seed));
                foreach (var result in s.Run(options))
                {
                    if (r.GetValue(json)) Console.WriteLine(result.ToJson().ToJsonString());
                    else Console.WriteLine($"{result.Suite,-10} {result.Name,-32} {result.Value,14:G6} {result.Unit}{(result.Extra is null ? "" : "  " + result.Extra.ToJsonString())}");
                    Console.Out.Flush();
                }
                return 0;
            });
            command.Subcommands.Add(sub);
        }
        return command;
    }
}
