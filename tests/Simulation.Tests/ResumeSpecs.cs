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

    [Fact]
    public void A_run_stopped_and_resumed_ends_exactly_like_one_run_through()
    {
        // SFLv2: the server's Adam moments and steps carry over rounds; they are checkpointed beside the weights.
        var o = SimulationSpecs.Small(rounds: 3, steps: 2, clients: 2);
        var through = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages());
        var dir = SimulationSpecs.TempDir();
        SimulationRunner.Run(o with { Run = o.Run with { Rounds = 1 } }, new RunRequest(dir), images: new SyntheticImages());
        File.Exists(Path.Combine(dir, "checkpoints", "latest.optimizer.safetensors")).Should().BeTrue();
        var resumed = SimulationRunner.Run(o, new RunRequest(dir, Resume: true), images: new SyntheticImages());

        static string Comparable(System.Text.Json.Nodes.JsonObject round)
        {
            var c = (System.Text.Json.Nodes.JsonObject)round.DeepClone();
            foreach (var k in new[] { "round_wall_s", "wall_time_s" }) c.Remove(k);
            return c.ToJsonString();
        }
        resumed.Rounds.Select(Comparable).Should().Equal(through.Rounds.Select(Comparable));
        resumed.Summary["final_model_hash"]!.GetValue<string>().Should().Be(through.Summary["final_model_hash"]!.GetValue<string>());
    }

    [Fact]
    public void An_optimizer_state_of_another_round_is_refused()
    {
        var dir = SimulationSpecs.TempDir();
        var o = SimulationSpecs.Small(rounds: 2, steps: 1, clients: 2) with { Run = new RunOptions { Rounds = 2, Name = "t", CheckpointEvery = 1 } };
        SimulationRunner.Run(o, new RunRequest(dir), images: new SyntheticImages());
        var ck = Path.Combine(dir, "checkpoints");
        File.Copy(Path.Combine(ck, "round-0001.safetensors"), Path.Combine(ck, "latest.safetensors"), overwrite: true);
        var act = () => SimulationRunner.Run(o with { Run = o.Run with { Rounds = 3 } }, new RunRequest(dir, Resume: true), images: new SyntheticImages());
        act.Should().Throw<InvalidDataException>().WithMessage("*latest.optimizer.safetensors is of round 2, the weights of round 1*");
    }
}
