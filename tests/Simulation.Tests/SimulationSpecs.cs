using System.Text.Json.Nodes;
using CoFUsfl.Actors;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests;

/// <summary>End-to-end runs of the protocol on small synthetic data (seconds each).</summary>
public class SimulationSpecs
{
    internal static string TempDir() => Path.Combine(Path.GetTempPath(), "cofusfl-test-" + Guid.NewGuid().ToString("N")[..8]);

    internal static SimulationOptions Small(string features = "entropy", string mode = "sflv2", int rounds = 2, int steps = 2, int clients = 3) => new()
    {
        Seed = 3,
        Run = new RunOptions { Rounds = rounds, Name = "t" },
        Model = new ModelOptions { Name = "bmshj2018-hyperprior", N = 8, M = 12 },
        Data = new DataOptions { Train = ["synthetic"], Crop = 64, BatchSize = 2 },
        Loss = new LossOptions { Lambda = 0.013, Beta = features == "entropy" ? 1.0 : 0 },
        Split = new SplitOptions { Head = 2, Tail = 5, Features = new FeatureCodecOptions { Uplink = features, Downlink = features } },
        Training = new TrainingOptions { Mode = mode, LocalSteps = steps, ClientOptimizer = new OptimizerOptions { Lr = 1e-3 }, ServerOptimizer = new OptimizerOptions { Lr = 1e-3 } },
        Federation = new FederationOptions { Clients = clients, ClientsPerRound = clients },
        Evaluation = new EvaluationOptions { Enabled = false },
    };

    internal static RunOutcome Run(SimulationOptions o) => SimulationRunner.Run(o, new RunRequest(TempDir()), images: new SyntheticImages());

    private static string Strip(JsonObject round)
    {
        var c = (JsonObject)round.DeepClone();
        c.Remove("round_wall_s");
        c.Remove("wall_time_s");
        return c.ToJsonString();
    }

    [Fact]
    public void Same_seed_twice_gives_identical_metrics_and_final_model()
    {
        var a = Run(Small());
        var b = Run(Small());
        a.Rounds.Select(Strip).Should().Equal(b.Rounds.Select(Strip));
        a.Summary["final_model_hash"]!.GetValue<string>().Should().Be(b.Summary["final_model_hash"]!.GetValue<string>());
    }

    [Fact]
    public void SFLv1_is_deterministic_too()
    {
        var a = Run(Small(mode: "sflv1", rounds: 1));
        var b = Run(Small(mode: "sflv1", rounds: 1));
        a.Summary["final_model_hash"]!.GetValue<string>().Should().Be(b.Summary["final_model_hash"]!.GetValue<string>());
        a.Rounds[0]["clients_completed"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public void CoF_sends_fewer_bytes_than_float32_on_the_same_steps()
    {
        var plain = Run(Small("float32", rounds: 1));
        var cof = Run(Small("entropy", rounds: 1));
        long Features(RunOutcome r) => r.Summary["bytes_by_kind"]!["transfer1_features_up"]!.GetValue<long>()
                                       + r.Summary["bytes_by_kind"]!["transfer2_features_down"]!.GetValue<long>();
        var ratio = (double)Features(plain) / Features(cof);
        ratio.Should().BeGreaterThan(1.5, $"float32 features took {Features(plain)} bytes, entropy-coded {Features(cof)}");
    }

    [Fact]
    public void A_message_still_being_sent_on_a_slow_uplink_is_not_retransmitted()
    {
        // float32 split-1 features and split-2 gradients are 64 KiB each: 10.5 s on a 50 kbit/s uplink, far more than the
        // 1 s retry timeout. One client, so no wait for the server's attention either: a retransmission would be spurious.
        var o = Small("float32", rounds: 1, steps: 3, clients: 1) with
        {
            Clients = new ClientPopulationOptions { Profiles = [new ClientProfileOptions { UplinkMbps = [0.05, 0.05] }] },
            Federation = new FederationOptions { Clients = 1, ClientsPerRound = 1, RetryTimeout = TimeSpan.FromSeconds(1), MaxRetries = 3 },
        };
        var r = Run(o).Rounds[0];
        r["clients_completed"]!.GetValue<int>().Should().Be(1);
        foreach (var kind in new[] { "transfer1_features_up", "transfer3_gradient_up" })
            r["messages"]![kind]!.GetValue<long>().Should().Be(3, $"{kind}: one message per step, no retransmission");
        r["round_simulated_s"]!.GetValue<double>().Should().BeGreaterThan(6 * 10.4, "six uploads of 10.5 s each, one after another");
        // The coordinator repeats the plan every retry-timeout while the round runs; the client acknowledged its
        // global model, so the aggregator does not send it again.
        r["messages"]!["GlobalModel aggregator->client"]!.GetValue<long>().Should().Be(1);
        r["messages"]!["GlobalModelAck client->aggregator"]!.GetValue<long>().Should().Be(1);
    }

    [Fact]
    public void The_lr_schedule_decays_both_sides_after_its_milestones_and_leaves_earlier_rounds_alone()
    {
        var o = Small(rounds: 3);
        var constant = Run(o);
        var decayed = Run(o with { Training = o.Training with { LrSchedule = new LrScheduleOptions { Milestones = [1], Gamma = 0.1 } } });
        decayed.Rounds.Select(r => r["client_lr"]!.GetValue<double>()).Should().Equal(new[] { 1e-3, 1e-4, 1e-4 }, (a, b) => Math.Abs(a - b) < 1e-12);
        decayed.Rounds.Select(r => r["server_lr"]!.GetValue<double>()).Should().Equal(new[] { 1e-3, 1e-4, 1e-4 }, (a, b) => Math.Abs(a - b) < 1e-12);
        Strip(decayed.Rounds[0]).Should().Be(Strip(constant.Rounds[0]));
        decayed.Rounds[1]["train"]!["loss"]!.GetValue<double>().Should().NotBe(constant.Rounds[1]["train"]!["loss"]!.GetValue<double>());
        decayed.Summary["final_model_hash"]!.GetValue<string>().Should().NotBe(constant.Summary["final_model_hash"]!.GetValue<string>());
        // gamma = 1 is the constant schedule, bit for bit.
        var unit = Run(o with { Training = o.Training with { LrSchedule = new LrScheduleOptions { Milestones = [1, 2], Gamma = 1 } } });
        unit.Summary["final_model_hash"]!.GetValue<string>().Should().Be(constant.Summary["final_model_hash"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(1u, 1.0)]
    [InlineData(2u, 0.5)]
    [InlineData(5u, 0.5)]
    [InlineData(6u, 0.25)]
    public void The_lr_factor_counts_the_milestones_already_passed(uint round, double factor)
    {
        new LrScheduleOptions { Milestones = [1, 5], Gamma = 0.5 }.FactorAt(round).Should().Be(factor);
    }

    [Fact]
    public void Loss_decreases_over_rounds()
    {
        var r = Run(Small(rounds: 3, steps: 3));
        var first = r.Rounds[0]["train"]!["loss"]!.GetValue<double>();
        var last = r.Rounds[^1]["train"]!["loss"]!.GetValue<double>();
        last.Should().BeLessThan(first);
    }

    [Fact]
    public void Each_dropped_client_has_a_reason_gave_up_or_failed()
    {
        // client-0001 can never reach the server: it retransmits, gives up and says so. client-0003 crash-stops: the
        // aggregator's death watch sees it. The round waits for 4 updates, gets 2, and closes without its deadline.
        var o = Small(rounds: 1, steps: 1, clients: 4) with
        {
            Federation = new FederationOptions { Clients = 4, ClientsPerRound = 4, RetryTimeout = TimeSpan.FromSeconds(2), MaxRetries = 2, RoundDeadline = TimeSpan.FromMinutes(5) },
            Faults = new FaultPlan
            {
                Seed = 1,
                Rules = [new FaultRule { From = "client-0001", To = "server", Drop = 1 }],
                Crashes = [new CrashRule { Actor = "client-0003", At = TimeSpan.FromSeconds(0.01), Mode = CrashMode.Stop }],
            },
        };
        var round = Run(o).Rounds[0];
        round["clients_completed"]!.GetValue<int>().Should().Be(2);
        var reasons = round["dropped_reasons"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        reasons.Should().BeEquivalentTo(new Dictionary<string, int> { ["gave_up"] = 1, ["failed"] = 1 });
        round["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60, "every sampled client is accounted for long before the 5-minute deadline");
    }

    [Fact]
    public void Over_committed_clients_beyond_K_are_dropped_as_surplus()
    {
        var o = Small(rounds: 1, steps: 1, clients: 4) with
        {
            Federation = new FederationOptions { Clients = 4, ClientsPerRound = 2, OverCommit = 2 },
        };
        var round = Run(o).Rounds[0];
        round["clients_completed"]!.GetValue<int>().Should().Be(2);
        round["dropped_reasons"]!.ToJsonString().Should().Be("{\"surplus\":2}");
    }

    [Fact]
    public void A_fault_plan_completes_with_every_fault_accounted_for_and_no_update_counted_twice()
    {
        var o = Small(rounds: 2, steps: 2, clients: 4) with
        {
            Federation = new FederationOptions { Clients = 4, ClientsPerRound = 4, RetryTimeout = TimeSpan.FromSeconds(5), MaxRetries = 6, RoundDeadline = TimeSpan.FromMinutes(10) },
            Faults = new FaultPlan
            {
                Seed = 11,
                Rules = [new FaultRule { From = "*", To = "*", Drop = 0.10, Corrupt = 0.01 }],
                Crashes =
                [
                    new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(0.2), Mode = CrashMode.Stop },
                    new CrashRule { Actor = "server", At = TimeSpan.FromSeconds(0.5), Mode = CrashMode.Restart },
                ],
            },
        };
        var r = Run(o);
        r.Rounds.Should().HaveCount(2);
        var s = r.Summary;
        s["lost_updates"]!.GetValue<long>().Should().Be(0);
        s["client_updates_counted"]!.GetValue<long>().Should().BeLessThanOrEqualTo(2 * 4);
        r.Rounds.Sum(x => x["faults"]!["injected"]!.GetValue<long>()).Should().BeGreaterThan(0);
        s["faults"]!["dropped"]!.GetValue<long>().Should().BeGreaterThan(0);
        foreach (var round in r.Rounds)
            (round["clients_completed"]!.GetValue<int>() + round["clients_dropped"]!.GetValue<int>()).Should().Be(4);
    }
}
