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

    [Fact]
    public void Summary_profiles_the_wall_time_by_part_of_the_work_and_the_parts_add_up_to_at_most_the_wall_time()
    {
        var o = SimulationSpecs.Small("adaptive", rounds: 1, steps: 2, clients: 2) with
        {
            Split = new SplitOptions
            {
                Head = 2, Tail = 5, Features = new FeatureCodecOptions { Uplink = "adaptive", Downlink = "adaptive" },
                Gradients = new GradientCodecOptions { Uplink = "entropy", Downlink = "entropy" },
            },
            Loss = new LossOptions { Lambda = 0.013, Beta = 1.0 },
            Evaluation = new EvaluationOptions { Enabled = true, Every = 1, Limit = 1 },
        };
        var r = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages(), evaluation: new CodecEvaluator(Kodak()));
        var profile = r.Summary["profile"]!.AsObject();
        var parts = profile.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>());
        parts.Keys.Should().Contain(["client_forward", "client_backward", "client_optimizer", "server_forward", "server_backward",
            "server_optimizer", "feature_quantize", "feature_encode", "feature_decode", "gradient_quantize", "gradient_encode",
            "gradient_decode", "evaluation", "checkpoints", "metrics_io", "other"]);
        parts.Values.Should().OnlyContain(s => s >= 0 && double.IsFinite(s));
        foreach (var measured in new[] { "client_forward", "server_forward", "feature_encode", "gradient_encode", "evaluation", "checkpoints" })
            parts[measured].Should().BeGreaterThan(0, measured);
        // Virtual time runs every actor on one thread: the parts never overlap, so they fit in the session's wall time.
        parts.Values.Sum().Should().BeLessThanOrEqualTo(r.Summary["wall_time_s"]!.GetValue<double>() + 1e-6);
    }
}
