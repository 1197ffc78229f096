using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests;

public class ResumeSpecs
{
    [Fact]
    public void A_resumed_run_reports_totals_over_all_its_sessions()
    {
        var dir = SimulationSpecs.TempDir();
        var first = SimulationSpecs.Small(rounds: 1, steps: 1, clients: 2);
        SimulationRunner.Run(first, new RunRequest(dir), images: new SyntheticImages());
        var resumed = SimulationRunner.Run(first with { Run = first.Run with { Rounds = 2 } }, new RunRequest(dir, Resume: true), images: new SyntheticImages());

        resumed.Rounds.Select(r => r["round"]!.GetValue<uint>()).Should().Equal(1u, 2u);
        var s = resumed.Summary;
        s["rounds"]!.GetValue<int>().Should().Be(2);
        s["sessions"]!.GetValue<int>().Should().Be(2);
        s["bytes_transfers"]!.GetValue<long>().Should().Be(resumed.Rounds.Sum(r => r["bytes_transfers_round"]!.GetValue<long>()));
        s["client_updates_counted"]!.GetValue<long>().Should().Be(4);
        s["lost_updates"]!.GetValue<long>().Should().Be(0);
        resumed.Rounds[1]["simulated_time_s"]!.GetValue<double>().Should().BeGreaterThan(resumed.Rounds[0]["simulated_time_s"]!.GetValue<double>());
    }

    [Fact]
    public void Resuming_a_finished_run_is_refused_without_touching_its_folder()
    {
        var dir = SimulationSpecs.TempDir();
        var o = SimulationSpecs.Small(rounds: 1, steps: 1, clients: 2);
        SimulationRunner.Run(o, new RunRequest(dir, ResolvedConfigText: "cofusfl.seed = 3"), images: new SyntheticImages());
        var act = () => SimulationRunner.Run(o, new RunRequest(dir, Resume: true, ResolvedConfigText: "changed"), images: new SyntheticImages());
        act.Should().Throw<ArgumentException>().WithMessage("*already holds all 1 rounds*");
        File.ReadAllText(Path.Combine(dir, "config.conf")).Should().Be("cofusfl.seed = 3");
    }
}
