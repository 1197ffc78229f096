using System.Text.Json.Nodes;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Tests.Cli;

namespace CoFUsfl.Simulation.Tests;

/// <summary>The FedLC comparison (<c>cofusfl report --kind personalization</c>) computed from what run folders hold.</summary>
public class PersonalizationReportSpecs : IDisposable
{
    private readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    private RunFolder Run(string name, double lambda, params (string Domain, double Psnr, double Bpp)[] domains)
    {
        var dir = _dir[name];
        Directory.CreateDirectory(dir);
        var byDomain = new JsonObject();
        foreach (var (d, p, b) in domains) byDomain[d] = new JsonObject { ["clients"] = 1, ["images"] = 4, ["psnr"] = p, ["bpp"] = b };
        var summary = new JsonObject
        {
            ["name"] = name, ["rounds"] = 40, ["lambda"] = lambda, ["bytes_by_kind"] = new JsonObject(), ["final_model_hash"] = "h-" + name,
            ["kodak"] = new JsonObject { ["psnr"] = 25.0, ["bpp"] = 0.5 },
            ["per_client"] = new JsonObject { ["clients_evaluated"] = domains.Length, ["domains"] = byDomain, ["clients"] = new JsonObject() },
        };
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "{\"round\":1}\n");
        return RunFolder.Load(dir);
    }

    [Fact]
    public void The_RD_cost_of_each_domain_is_bpp_plus_the_weighted_MSE_and_runs_are_compared_by_it()
    {
        // PSNR 20 dB: MSE 0.01; lambda 0.01 -> 0.01 * 65025 * 0.01 = 6.5025; + 0.5 bpp = 7.0025.
        PersonalizationReport.RdCost(20, 0.5, 0.01).Should().BeApproximately(7.0025, 1e-9);
        var shared = Run("shared", 0.01, ("bsds500", 20, 0.5), ("urban100", 20, 0.5));
        var personal = Run("personal", 0.01, ("bsds500", 20, 0.4), ("urban100", 20, 0.6));
        var md = PersonalizationReport.Write([shared, personal], Path.Combine(_dir.Path, "fedlc.md"), "FedLC");
        md.Should().Contain("| shared | nothing (all shared) | 40 | 20.00 / 0.500 / 7.003 | 20.00 / 0.500 / 7.003 | 7.003 | 25.00 dB @ 0.500 bpp |");
        // bsds500: 6.9025 / 7.0025 - 1 = -1.4 %; urban100: +1.4 %; the means are equal.
        md.Should().Contain("| personal | −1.4 % | +1.4 % | +0.0 % |");
        md.Should().Contain("h-personal");
        File.Exists(Path.Combine(_dir.Path, "fedlc-runs", "personal", "summary.json")).Should().BeTrue();
    }

    [Fact]
    public void Runs_without_a_per_client_evaluation_or_with_different_lambdas_are_refused_by_name()
    {
        var a = Run("a", 0.01, ("bsds500", 20, 0.5));
        var b = Run("b", 0.02, ("bsds500", 20, 0.5));
        FluentActions.Invoking(() => PersonalizationReport.Write([a, b], Path.Combine(_dir.Path, "x.md"), "x"))
            .Should().Throw<InvalidDataException>().WithMessage("*loss.lambda*");
        var plain = _dir["plain"];
        Directory.CreateDirectory(plain);
        File.WriteAllText(Path.Combine(plain, "summary.json"), "{\"name\":\"plain\",\"lambda\":0.01,\"bytes_by_kind\":{}}");
        File.WriteAllText(Path.Combine(plain, "metrics.jsonl"), "{\"round\":1}\n");
        FluentActions.Invoking(() => PersonalizationReport.Write([RunFolder.Load(plain)], Path.Combine(_dir.Path, "y.md"), "y"))
            .Should().Throw<InvalidDataException>().WithMessage("*no per_client evaluation*evaluation.per-client*");
    }
}
