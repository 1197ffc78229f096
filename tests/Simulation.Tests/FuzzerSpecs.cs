using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Reliability;
using CoFUsfl.Simulation.Tests.Cli;

namespace CoFUsfl.Simulation.Tests;

/// <summary>The seeded input fuzzer: it finds crashes when there are some, and the shipped parsers have none.</summary>
public class FuzzerSpecs
{
    private static IReadOnlyList<FuzzTarget> Shipped() => InputFuzzer.Targets([ReferenceConfig.Text, File.ReadAllText(Path.Combine(Repo.Root, "hocon", "quickstart.conf"))],
        [File.ReadAllBytes(Directory.EnumerateFiles(Path.Combine(Repo.Datasets, "bsds500", "train"), "*.jpg").Order(StringComparer.Ordinal).First())]);

    [Fact]
    public void Every_shipped_parser_accepts_or_refuses_300_mutated_inputs_each_without_a_crash_or_a_large_allocation()
    {
        var reports = Shipped().Select(t => InputFuzzer.Run(t, 300, seed: 11)).ToList();
        reports.Select(r => r.Target).Should().Equal("hocon", "png", "png-crc-fixed", "jpeg", "cfu", "safetensors");
        foreach (var r in reports)
        {
            r.Crashes.Should().Be(0, $"{r.Target}: {string.Join("; ", r.Samples)}");
            (r.Accepted + r.Refused).Should().Be(300);
            r.Refused.Should().BeGreaterThan(0, $"{r.Target}: mutations that break the format are refused");
            r.MaxAllocatedBytes.Should().BeLessThan(InputFuzzer.DefaultAllocationBudget);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_cases()
    {
        var png = Shipped().Single(t => t.Name == "png");
        var a = InputFuzzer.Run(png, 100, seed: 3);
        var b = InputFuzzer.Run(png, 100, seed: 3);
        (a.Accepted, a.Refused, a.TopRefusals.Count).Should().Be((b.Accepted, b.Refused, b.TopRefusals.Count));
        a.TopRefusals.Should().Equal(b.TopRefusals);
        InputFuzzer.Mutate([1, 2, 3, 4, 5, 6, 7, 8], new Random(9)).Should().Equal(InputFuzzer.Mutate([1, 2, 3, 4, 5, 6, 7, 8], new Random(9)));
    }

    [Fact]
    public void A_parser_that_throws_the_wrong_exception_or_allocates_too_much_is_reported_as_a_crash()
    {
        var seed = new byte[64];
        FuzzTarget Buggy(Action<byte[]> bug) => new("buggy", [seed], b =>
        {
            if (b.Length < 32) throw new FormatException("short"); // a clean refusal
            bug(b);
        }, e => e is FormatException);
        var wrong = InputFuzzer.Run(Buggy(b => { if (b.Any(x => x != 0)) throw new NullReferenceException("oops"); }), 200, seed: 1);
        wrong.Crashes.Should().BeGreaterThan(0);
        wrong.Samples.Should().OnlyContain(s => s.Contains("NullReferenceException: oops"));
        wrong.Refused.Should().BeGreaterThan(0);
        var greedy = InputFuzzer.Run(Buggy(b => { if (b.Any(x => x != 0)) GC.KeepAlive(new byte[100 << 20]); }), 50, seed: 1); // 100 MiB for 64 bytes
        greedy.Crashes.Should().BeGreaterThan(0);
        greedy.Samples.Should().OnlyContain(s => s.Contains("budget"));
    }

    [Fact]
    public void A_target_that_refuses_its_own_seed_is_an_error_not_a_pass()
    {
        var t = new FuzzTarget("refuses-all", [[1, 2, 3]], _ => throw new FormatException("never"), e => e is FormatException);
        FluentActions.Invoking(() => InputFuzzer.Run(t, 10, 1)).Should().Throw<ArgumentException>().WithMessage("*seed 0 is not accepted*never*");
    }

    [Fact]
    public void Cofusfl_fuzz_reports_every_target_as_JSON_and_exits_0()
    {
        var dir = SimulationSpecs.TempDir();
        Directory.CreateDirectory(dir);
        var r = CliProcess.Run(dir, ["fuzz", "--cases", "40", "--json"]).ShouldSucceed();
        var reports = System.Text.Json.Nodes.JsonNode.Parse(r.Stdout)!.AsArray();
        reports.Select(x => x!["target"]!.GetValue<string>()).Should().Equal("hocon", "png", "png-crc-fixed", "jpeg", "cfu", "safetensors");
        reports.Should().OnlyContain(x => x!["crashes"]!.GetValue<int>() == 0 && x["cases"]!.GetValue<int>() == 40);
        CliProcess.Run(dir, ["fuzz", "--target", "gif"]).ShouldFailClearly("--target gif", "hocon, png");
    }
}
