using System.Text.Json.Nodes;
using CoFUsfl.Cli;
using CoFUsfl.Simulation.Configuration;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>One tiny two-round run through <c>cofusfl run</c>, shared by the specs of its run folder.</summary>
public sealed class TinyRunFixture : IDisposable
{
    public TempFolder Dir { get; } = new();
    public string Config { get; }
    public string RunDir { get; }
    public CliResult Result { get; }

    public TinyRunFixture()
    {
        Config = Dir.Write("tiny.conf", TinyConfig.Run(rounds: 2));
        RunDir = Dir["run"];
        Result = CliProcess.Run(Dir.Path, "run", Config, "--out", RunDir, "--quiet");
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary><c>cofusfl run CONFIG</c>: what a finished run folder holds, and <c>--resume</c>.</summary>
public class RunCommandSpecs(TinyRunFixture run) : IClassFixture<TinyRunFixture>
{
    private static List<JsonObject> Lines(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public void A_tiny_run_exits_0_and_writes_config_metrics_summary_codec_checkpoint_and_plots()
    {
        run.Result.ShouldSucceed();
        run.Result.Stdout.Trim().Should().Be(run.RunDir, "--quiet prints only the run folder");
        foreach (var f in new[] { "config.conf", "metrics.jsonl", "summary.json", "codec.safetensors", "checkpoints/latest.safetensors" })
            File.Exists(Path.Combine(run.RunDir, f)).Should().BeTrue($"{f} belongs in a run folder");
        var svgs = Directory.GetFiles(run.RunDir, "*.svg");
        svgs.Select(Path.GetFileName).Should().Contain(["psnr_vs_round.svg", "psnr_vs_bytes.svg", "bytes_vs_round.svg"]);
        foreach (var svg in svgs) System.Xml.Linq.XDocument.Load(svg).Root!.Name.LocalName.Should().Be("svg");
    }

    [Fact]
    public void The_saved_config_is_a_valid_run_configuration_with_the_settings_of_the_run()
    {
        run.Result.ShouldSucceed();
        // Loaded as `cofusfl run RUN/config.conf` would load it: over reference.conf, unknown keys rejected.
        var saved = SimulationConfig.Bind(CliConfig.Load(Path.Combine(run.RunDir, "config.conf"), []));
        var original = SimulationConfig.Bind(CliConfig.Load(run.Config, []));
        saved.Seed.Should().Be(original.Seed);
        saved.Run.Should().Be(original.Run);
        saved.Model.Should().Be(original.Model);
        saved.Loss.Should().Be(original.Loss);
        saved.Split.Features.Should().Be(original.Split.Features);
        (saved.Split.Head, saved.Split.Tail).Should().Be((original.Split.Head, original.Split.Tail));
        saved.Data.Train.Should().Equal(original.Data.Train);
        (saved.Data.Crop, saved.Data.BatchSize, saved.Data.Root).Should().Be((original.Data.Crop, original.Data.BatchSize, original.Data.Root));
        (saved.Training.LocalSteps, saved.Federation.Clients, saved.Evaluation.Limit)
            .Should().Be((original.Training.LocalSteps, original.Federation.Clients, original.Evaluation.Limit));
    }

    [Fact]
    public void Metrics_hold_one_JSON_line_per_round_with_bytes_and_training_figures()
    {
        run.Result.ShouldSucceed();
        var rounds = Lines(Path.Combine(run.RunDir, "metrics.jsonl"));
        rounds.Select(r => r["round"]!.GetValue<int>()).Should().Equal(1, 2);
        rounds.Should().OnlyContain(r => r["bytes_transfers_round"]!.GetValue<long>() > 0 && r["clients_completed"]!.GetValue<int>() == 2);
        rounds.Should().OnlyContain(r => double.IsFinite(r["train"]!["loss"]!.GetValue<double>()));
        rounds[^1]["eval"]!["psnr"]!.GetValue<double>().Should().BePositive("the last round is evaluated");
    }

    [Fact]
    public void The_summary_counts_bytes_and_updates_and_reports_Kodak_quality()
    {
        run.Result.ShouldSucceed();
        var s = JsonNode.Parse(File.ReadAllText(Path.Combine(run.RunDir, "summary.json")))!.AsObject();
        s["rounds"]!.GetValue<int>().Should().Be(2);
        s["bytes_total"]!.GetValue<long>().Should().BePositive();
        s["bytes_transfers"]!.GetValue<long>().Should().BePositive().And.BeLessThanOrEqualTo(s["bytes_total"]!.GetValue<long>());
        s["lost_updates"]!.GetValue<int>().Should().Be(0);
        s["client_updates_counted"]!.GetValue<int>().Should().Be(4, "2 clients × 2 rounds");
        s["kodak"]!["images"]!.GetValue<int>().Should().Be(1, "evaluation.limit = 1");
        s["kodak"]!["psnr"]!.GetValue<double>().Should().BeInRange(1, 60);
        s["kodak"]!["bpp"]!.GetValue<double>().Should().BePositive();
    }

    [Fact]
    public void The_run_codec_is_the_evaluated_model_codec_eval_reproduces_the_summary_figures()
    {
        run.Result.ShouldSucceed();
        var s = JsonNode.Parse(File.ReadAllText(Path.Combine(run.RunDir, "summary.json")))!["kodak"]!;
        var e = CliProcess.Run(run.Dir.Path, "codec", "eval", "--model", Path.Combine(run.RunDir, "codec.safetensors"),
            "--dataset", Repo.Kodak, "--limit", "1", "--json").ShouldSucceed();
        var eval = JsonNode.Parse(e.Stdout)!;
        eval["psnr"]!.GetValue<double>().Should().Be(s["psnr"]!.GetValue<double>());
        eval["bpp"]!.GetValue<double>().Should().Be(s["bpp"]!.GetValue<double>());
    }

    [Fact]
    public void Resume_with_more_rounds_continues_from_the_checkpoint_and_appends_only_the_new_round()
    {
        run.Result.ShouldSucceed();
        using var tmp = new TempFolder();
        var copy = tmp["run"];
        CopyTree(run.RunDir, copy);
        var before = File.ReadAllLines(Path.Combine(copy, "metrics.jsonl"));

        CliProcess.Run(tmp.Path, "run", run.Config, "--out", copy, "--resume", "-D", "cofusfl.run.rounds=3", "--quiet").ShouldSucceed();

        var after = File.ReadAllLines(Path.Combine(copy, "metrics.jsonl")).Where(l => l.Length > 0).ToArray();
        after.Should().HaveCount(3);
        after[..2].Should().Equal(before.Where(l => l.Length > 0), "the first two rounds are kept as they were");
        JsonNode.Parse(after[2])!["round"]!.GetValue<int>().Should().Be(3);
        File.Exists(Path.Combine(copy, "checkpoints", "round-0003.safetensors")).Should().BeTrue();
        Directory.GetDirectories(tmp.Path).Should().Equal([copy], "a resumed run stays in its folder, never a new one");

        // Continued from the checkpoint, not restarted: round 3 trains like round 3 of an uninterrupted run (same crops;
        // the optimizer's moments are not checkpointed, so not bit for bit), far from where a fresh model starts.
        var straight = tmp["straight"];
        CliProcess.Run(tmp.Path, "run", run.Config, "--out", straight, "-D", "cofusfl.run.rounds=3", "--quiet").ShouldSucceed();
        double Loss(string line) => JsonNode.Parse(line)!["train"]!["loss"]!.GetValue<double>();
        var uninterrupted = Lines(Path.Combine(straight, "metrics.jsonl"));
        var resumed = Loss(after[2]);
        resumed.Should().BeApproximately(uninterrupted[2]["train"]!["loss"]!.GetValue<double>(), 0.01 * resumed);
        Math.Abs(resumed - Loss(after[0])).Should().BeGreaterThan(0.05 * resumed, "a fresh start would train like round 1");
    }

    [Fact]
    public void Resume_without_a_checkpoint_names_the_missing_checkpoint()
    {
        using var tmp = new TempFolder();
        CliProcess.Run(tmp.Path, "run", run.Config, "--out", tmp["empty"], "--resume", "--quiet")
            .ShouldFailClearly("--resume", Path.Combine(tmp["empty"], "checkpoints", "latest.safetensors"));
    }

    [Fact]
    public void A_second_run_into_a_used_folder_goes_to_a_fresh_sibling_folder()
    {
        run.Result.ShouldSucceed();
        using var tmp = new TempFolder();
        var used = tmp["used"];
        Directory.CreateDirectory(used);
        File.WriteAllText(Path.Combine(used, "keep.txt"), "mine");
        var r = CliProcess.Run(tmp.Path, "run", run.Config, "--out", used, "--quiet", "-D", "cofusfl.run.rounds=1",
            "-D", "cofusfl.evaluation.enabled=off").ShouldSucceed();
        r.Stdout.Trim().Should().Be(used + "-2");
        Directory.GetFiles(used).Should().Equal([Path.Combine(used, "keep.txt")], "an existing folder is never written into without --resume");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }
}
