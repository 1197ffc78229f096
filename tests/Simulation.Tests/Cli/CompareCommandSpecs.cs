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
