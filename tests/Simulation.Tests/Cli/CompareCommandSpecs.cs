using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace CoFUsfl.Simulation.Tests.Cli;

/// <summary>Two one-round runs on the same seed: plain U-SFL (float32 features, β = 0) and CoF (entropy-coded features).</summary>
public sealed class TwoRunsFixture : IDisposable
{
    public TempFolder Dir { get; } = new();
    public string Plain { get; }
    public string Cof { get; }
    public CliResult PlainResult { get; }
    public CliResult CofResult { get; }

    public TwoRunsFixture()
    {
        var config = Dir.Write("tiny.conf", TinyConfig.Run(rounds: 1));
        Plain = Dir["plain"];
        Cof = Dir["cof"];
        PlainResult = CliProcess.Run(Dir.Path, "run", config, "--out", Plain, "--quiet", "-D", "cofusfl.run.name=plain",
            "-D", "cofusfl.split.features.uplink=float32", "-D", "cofusfl.split.features.downlink=float32", "-D", "cofusfl.loss.beta=0");
        CofResult = CliProcess.Run(Dir.Path, "run", config, "--out", Cof, "--quiet", "-D", "cofusfl.run.name=cof");
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary><c>cofusfl compare RUN_A RUN_B</c>: the table, the reduction ratio against the first run, compare.svg.</summary>
public class CompareCommandSpecs(TwoRunsFixture runs) : IClassFixture<TwoRunsFixture>, IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Compare_prints_a_table_with_the_reduction_ratio_and_writes_compare_svg()
    {
        runs.PlainResult.ShouldSucceed();
        runs.CofResult.ShouldSucceed();

        var table = CliProcess.Run(_dir.Path, "compare", runs.Plain, runs.Cof).ShouldSucceed();
        var json = JsonNode.Parse(CliProcess.Run(_dir.Path, "compare", runs.Plain, runs.Cof, "--json", "--out", _dir["json.svg"]).ShouldSucceed().Stdout)!.AsArray();

        json.Select(r => r!["run"]!.GetValue<string>()).Should().Equal("plain", "cof");
        json[0]!["reduction_vs_first"]!.GetValue<double>().Should().Be(1.0, "the first run is the baseline");
        var ratio = json[1]!["reduction_vs_first"]!.GetValue<double>();
        ratio.Should().BeGreaterThan(1.0, "entropy-coded features send fewer bytes than float32 ones");
        var plainBytes = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.Plain, "summary.json")))!["bytes_transfers"]!.GetValue<long>();
        var cofBytes = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.Cof, "summary.json")))!["bytes_transfers"]!.GetValue<long>();
        ratio.Should().BeApproximately((double)plainBytes / cofBytes, 1e-12);

        table.Stdout.Should().Contain("reduction").And.Contain($"{ratio:F2}x").And.Contain("1.00x");
        table.Stdout.Should().Contain("plain").And.Contain("cof");
        var svg = XDocument.Load(Path.Combine(_dir.Path, "compare.svg"));
        svg.Descendants().Where(e => (string?)e.Attribute("class") == "series").Select(e => (string)e.Attribute("data-name")!)
            .Should().Equal("plain", "cof");
        File.Exists(_dir["json.svg"]).Should().BeTrue("--out names the plot");
    }

    [Fact]
    public void Compare_of_a_folder_that_is_not_a_run_names_it()
    {
        runs.PlainResult.ShouldSucceed();
        CliProcess.Run(_dir.Path, "compare", runs.Plain, _dir["nothing-here"]).ShouldFailClearly(_dir["nothing-here"], "not a finished run folder");
    }
}

/// <summary><c>cofusfl report</c>: the results document is computed from the run folders, never typed.</summary>
public class ReportCommandSpecs(TwoRunsFixture runs) : IClassFixture<TwoRunsFixture>, IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Report_writes_tables_from_the_run_folders_plots_and_the_records_behind_them()
    {
        runs.PlainResult.ShouldSucceed();
        runs.CofResult.ShouldSucceed();
        var doc = _dir["docs/results.md"];
        CliProcess.Run(_dir.Path, "report", runs.Plain, runs.Cof, "--out", doc, "--title", "Tiny").ShouldSucceed();
        var md = File.ReadAllText(doc);
        md.Should().StartWith("# Tiny");
        JsonObject S(string d) => JsonNode.Parse(File.ReadAllText(Path.Combine(d, "summary.json")))!.AsObject();
        long Features(JsonObject s) => s["bytes_by_kind"]!["transfer1_features_up"]!.GetValue<long>() + s["bytes_by_kind"]!["transfer2_features_down"]!.GetValue<long>();
        var ratio = (double)Features(S(runs.Plain)) / Features(S(runs.Cof));
        var protocol = (double)S(runs.Plain)["bytes_transfers"]!.GetValue<long>() / S(runs.Cof)["bytes_transfers"]!.GetValue<long>();
        string X(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", System.Globalization.CultureInfo.InvariantCulture) + "×";
        var cofRow = md.Split('\n').First(l => l.StartsWith("| cof |", StringComparison.Ordinal));
        cofRow.Should().Contain(X(ratio)).And.Contain(X(protocol));
        cofRow.Should().Contain($"{S(runs.Cof)["kodak"]!["psnr"]!.GetValue<double>():F2}");
        md.Should().Contain("## The targets").And.Contain("## Where the bytes go");
        File.Exists(_dir["docs/results-plots/protocol_bytes_vs_psnr.svg"]).Should().BeTrue();
        File.ReadAllText(_dir["docs/results-plots/runs/cof/summary.json"]).Should().Be(File.ReadAllText(Path.Combine(runs.Cof, "summary.json")));
    }

    [Fact]
    public void Report_of_a_folder_that_is_not_a_run_names_it()
    {
        runs.PlainResult.ShouldSucceed();
        CliProcess.Run(_dir.Path, "report", runs.Plain, _dir["nothing-here"], "--out", _dir["r.md"]).ShouldFailClearly(_dir["nothing-here"], "not a finished run folder");
        File.Exists(_dir["r.md"]).Should().BeFalse("nothing is written when an input is bad");
    }

    [Fact]
    public void Bytes_to_reach_a_psnr_interpolate_between_evaluations_and_say_when_never_reached()
    {
        var curve = new List<(double, double)> { (100, 20), (200, 24), (300, 25) };
        Metrics.Comparison.BytesToReach(curve, 22).Should().Be(150);
        Metrics.Comparison.BytesToReach(curve, 19).Should().Be(100);
        Metrics.Comparison.BytesToReach(curve, 25).Should().Be(300);
        Metrics.Comparison.BytesToReach(curve, 25.5).Should().BeNull();
        Metrics.Comparison.BytesToReach([], 1).Should().BeNull();
    }
}
