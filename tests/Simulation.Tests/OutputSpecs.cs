using CoFUsfl.Models.Evaluation;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests;

public class OutputSpecs
{
    private static string Kodak()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CoFUsfl.sln"))) return Path.Combine(dir.FullName, "..", "shared", "datasets", "kodak");
        throw new DirectoryNotFoundException("repository root not found");
    }

    [Fact]
    public void Summary_reports_the_eval_curve_and_the_simulated_time_to_a_target_PSNR()
    {
        var o = SimulationSpecs.Small(rounds: 2, steps: 1, clients: 2) with
        {
            Evaluation = new EvaluationOptions { Enabled = true, Every = 1, Limit = 1, TargetPsnr = 1.0 },
        };
        var r = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages(), evaluation: new CodecEvaluator(Kodak()));
        var curve = r.Summary["eval_curve"]!.AsArray();
        curve.Should().HaveCount(2);
        var first = curve[0]!["simulated_time_s"]!.GetValue<double>();
        first.Should().BeGreaterThan(0);
        r.Summary["time_to_target_psnr_s"]!.GetValue<double>().Should().Be(first, "every evaluated PSNR is above 1 dB");
        r.Summary["bytes_to_target_psnr"]!.GetValue<long>().Should().Be(r.Rounds[0]["bytes_transfers_round"]!.GetValue<long>());
        File.Exists(Path.Combine(r.RunDirectory, "psnr_vs_bytes.svg")).Should().BeTrue();
    }
}
