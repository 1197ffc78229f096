using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Torch;
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
            foreach (var k in new[] { "round_wall_s", "wall_time_s", "session" }) c.Remove(k);
            return c.ToJsonString();
        }
        resumed.Rounds.Select(Comparable).Should().Equal(through.Rounds.Select(Comparable));
        resumed.Summary["final_model_hash"]!.GetValue<string>().Should().Be(through.Summary["final_model_hash"]!.GetValue<string>());
    }

    [Fact]
    public void Client_side_personal_parameters_are_carried_over_a_resume_and_a_resume_without_them_is_refused()
    {
        var o = SimulationSpecs.Small(rounds: 3, steps: 2, clients: 2);
        o = o with { Federation = o.Federation with { Personal = ["feature1.*"] } };
        var through = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages());
        var dir = SimulationSpecs.TempDir();
        SimulationRunner.Run(o with { Run = o.Run with { Rounds = 1 } }, new RunRequest(dir), images: new SyntheticImages());
        var personal = Path.Combine(dir, "checkpoints", RunCheckpoints.ClientPersonalCheckpointFile);
        File.Exists(personal).Should().BeTrue();
        var copy = personal + ".kept";
        File.Copy(personal, copy);
        File.Delete(personal);
        var refused = () => SimulationRunner.Run(o, new RunRequest(dir, Resume: true), images: new SyntheticImages());
        refused.Should().Throw<FileNotFoundException>().WithMessage($"*federation.personal*{RunCheckpoints.ClientPersonalCheckpointFile}*");
        File.Move(copy, personal);
        var resumed = SimulationRunner.Run(o, new RunRequest(dir, Resume: true), images: new SyntheticImages());
        resumed.Summary["final_model_hash"]!.GetValue<string>().Should().Be(through.Summary["final_model_hash"]!.GetValue<string>(),
            "each client continues from its own split-1 feature model, as in the run through");
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

    private static (string Dir, SimulationOptions Options) OneRound(int clients = 2)
    {
        var dir = SimulationSpecs.TempDir();
        var o = SimulationSpecs.Small(rounds: 1, steps: 1, clients: clients);
        SimulationRunner.Run(o, new RunRequest(dir, ResolvedConfigText: "cofusfl.seed = 3"), images: new SyntheticImages());
        return (dir, o);
    }

    private static Action ResumeWith(string dir, SimulationOptions o) => () =>
        SimulationRunner.Run(o with { Run = o.Run with { Rounds = 2 } }, new RunRequest(dir, Resume: true, ResolvedConfigText: "changed"), images: new SyntheticImages());

    [Fact]
    public void A_resume_that_changes_the_model_split_codecs_or_seed_is_refused_naming_each_key_before_the_folder_is_touched()
    {
        var (dir, o) = OneRound();
        var metrics = File.ReadAllText(Path.Combine(dir, "metrics.jsonl"));
        var changed = o with
        {
            Seed = 4,
            Model = o.Model with { N = 16 },
            Split = o.Split with { Head = 4, Features = o.Split.Features with { Uplink = "float32" } },
        };
        var e = FluentActions.Invoking(ResumeWith(dir, changed)).Should().Throw<ArgumentException>().Which;
        e.Message.Should().Contain("cofusfl.seed = 3 in the checkpoint, 4 now")
            .And.Contain("cofusfl.model.n = 8 in the checkpoint, 16 now")
            .And.Contain("cofusfl.split.head = 2 in the checkpoint, 4 now")
            .And.Contain("cofusfl.split.features.uplink = entropy in the checkpoint, float32 now")
            .And.Contain("start a new run folder");
        File.ReadAllText(Path.Combine(dir, "config.conf")).Should().Be("cofusfl.seed = 3");
        File.ReadAllText(Path.Combine(dir, "metrics.jsonl")).Should().Be(metrics);
        // What may change (rounds, learning rates, beta) resumes.
        var ok = o with { Loss = o.Loss with { Beta = 2 }, Training = o.Training with { ClientOptimizer = new OptimizerOptions { Lr = 1e-4 } } };
        FluentActions.Invoking(ResumeWith(dir, ok)).Should().NotThrow();
    }

    [Fact]
    public void A_checkpoint_whose_shapes_do_not_fit_the_model_is_refused_naming_the_tensors()
    {
        var (dir, o) = OneRound();
        var path = Path.Combine(dir, "checkpoints", "latest.safetensors");
        var meta = new Dictionary<string, string>();
        var tensors = Safetensors.Load(path, meta);
        // As an older checkpoint without the recorded configuration, one tensor reshaped, one renamed.
        foreach (var k in meta.Keys.Where(k => k.StartsWith(ResumeKeys.MetaPrefix, StringComparison.Ordinal)).ToList()) meta.Remove(k);
        var first = tensors.Keys.Order(StringComparer.Ordinal).First(k => tensors[k].numel() > 1);
        tensors[first] = tensors[first].reshape(-1);
        var second = tensors.Keys.Order(StringComparer.Ordinal).Last();
        tensors["renamed." + second] = tensors[second];
        tensors.Remove(second);
        Safetensors.Save(path, tensors, meta);
        var e = FluentActions.Invoking(ResumeWith(dir, o)).Should().Throw<InvalidDataException>().Which;
        e.Message.Should().Contain($"'{first}' is [").And.Contain($"'{second}' is missing").And.Contain($"'renamed.{second}' is not a parameter of the model");
    }

    [Fact]
    public void A_checkpoint_with_NaN_weights_or_a_flipped_byte_is_refused()
    {
        var (dir, o) = OneRound();
        var path = Path.Combine(dir, "checkpoints", "latest.safetensors");
        var pristine = File.ReadAllBytes(path);
        var meta = new Dictionary<string, string>();
        var tensors = Safetensors.Load(path, meta);
        var name = tensors.Keys.Order(StringComparer.Ordinal).First(k => tensors[k].dtype == ScalarType.Float32);
        var values = tensors[name].data<float>();
        values[0] = float.NaN;
        tensors[name] = torch.from_array(values, tensors[name].shape);
        Safetensors.Save(path, tensors, meta);
        FluentActions.Invoking(ResumeWith(dir, o)).Should().Throw<InvalidDataException>().WithMessage($"*'{name}' holds NaN or infinite values*");

        pristine[^3] ^= 0x40;
        File.WriteAllBytes(path, pristine);
        FluentActions.Invoking(ResumeWith(dir, o)).Should().Throw<InvalidDataException>().WithMessage("*content hash mismatch*");
    }

    [Fact]
    public void A_session_killed_before_its_summary_still_counts_its_updates_and_sessions()
    {
        var o = SimulationSpecs.Small(rounds: 3, steps: 1, clients: 2) with { Run = new RunOptions { Rounds = 3, Name = "t", CheckpointEvery = 1 } };
        var through = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages());
        var dir = SimulationSpecs.TempDir();
        SimulationRunner.Run(o with { Run = o.Run with { Rounds = 2 } }, new RunRequest(dir), images: new SyntheticImages());
        File.Delete(Path.Combine(dir, "summary.json")); // as after SIGINT or kill -9 past round 2's checkpoint
        var resumed = SimulationRunner.Run(o, new RunRequest(dir, Resume: true), images: new SyntheticImages());

        resumed.Summary["sessions"]!.GetValue<int>().Should().Be(2);
        resumed.Rounds.Select(r => r["session"]!.GetValue<int>()).Should().Equal(1, 1, 2);
        foreach (var k in new[] { "client_updates_sent", "client_updates_counted", "lost_updates" })
            resumed.Summary[k]!.GetValue<long>().Should().Be(through.Summary[k]!.GetValue<long>(), k);
        resumed.Summary["client_updates_counted"]!.GetValue<long>().Should().Be(6);
    }

    [Fact]
    public void A_round_is_recorded_before_its_checkpoint_so_a_failed_checkpoint_loses_no_round()
    {
        var dir = SimulationSpecs.TempDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "checkpoints"), "a file where the checkpoint folder should be");
        var o = SimulationSpecs.Small(rounds: 1, steps: 1, clients: 2);
        FluentActions.Invoking(() => SimulationRunner.Run(o, new RunRequest(dir), images: new SyntheticImages())).Should().Throw<IOException>();
        File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Should().ContainSingle().Which.Should().Contain("\"round\":1,");
    }
}
