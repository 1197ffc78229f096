using CoFUsfl.Actors;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Data;
using CoFUsfl.Simulation.Protocol;
using CoFUsfl.Simulation.Roles;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Tests.Cli;
using static CoFUsfl.Simulation.Tests.SimulationSpecs;

namespace CoFUsfl.Simulation.Tests;

/// <summary>
/// The protocol under duplicates, restarts and early-finishing rounds: every message is idempotent at the receiver that
/// records it, an acknowledged update survives an aggregator restart, a round closes as soon as every sampled client is
/// accounted for, fault counters count each fault once, and a broken training image stops the run before round 1.
/// </summary>
public class ReliabilitySpecs
{
    private static FederationOptions Federation(int clients, int retrySeconds = 2, int maxRetries = 2, int deadlineMinutes = 30) => new()
    {
        Clients = clients, ClientsPerRound = clients, RetryTimeout = TimeSpan.FromSeconds(retrySeconds), MaxRetries = maxRetries,
        RoundDeadline = TimeSpan.FromMinutes(deadlineMinutes),
    };

    private static uint[] RoundsOf(RunOutcome r) => r.Rounds.Select(x => x["round"]!.GetValue<uint>()).ToArray();

    [Fact]
    public void A_duplicated_result_of_the_aggregator_records_each_round_once()
    {
        var o = Small(rounds: 3, steps: 1, clients: 2) with
        {
            Faults = new FaultPlan { Seed = 1, Rules = [new FaultRule { From = "aggregator", To = "coordinator", Duplicate = 1.0 }] },
        };
        var r = Run(o);
        RoundsOf(r).Should().Equal(1u, 2u, 3u);
        r.Summary["rounds"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public void A_duplicated_round_plan_does_not_send_the_global_model_again()
    {
        var o = Small(rounds: 1, steps: 1, clients: 2) with
        {
            Faults = new FaultPlan { Seed = 1, Rules = [new FaultRule { From = "coordinator", To = "*", Duplicate = 1.0 }] },
        };
        var round = Run(o).Rounds[0];
        round["messages"]!["GlobalModel aggregator->client"]!.GetValue<long>().Should().Be(2, "one global model per sampled client");
        round["clients_completed"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public void A_duplicated_transfer_is_answered_once()
    {
        var o = Small(rounds: 1, steps: 2, clients: 2) with
        {
            Faults = new FaultPlan { Seed = 1, Rules = [new FaultRule { From = "client", To = "server", Duplicate = 1.0 }] },
        };
        var round = Run(o).Rounds[0];
        round["messages"]!["transfer1_features_up"]!.GetValue<long>().Should().Be(4);
        round["messages"]!["transfer2_features_down"]!.GetValue<long>().Should().Be(4, "one answer per step and client");
        round["messages"]!["transfer4_gradient_down"]!.GetValue<long>().Should().Be(4, "one answer per step and client");
        round["clients_completed"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public void A_duplicated_update_is_acknowledged_once()
    {
        var o = Small(rounds: 1, steps: 1, clients: 2) with
        {
            Faults = new FaultPlan { Seed = 1, Rules = [new FaultRule { From = "client", To = "aggregator", Duplicate = 1.0 }] },
        };
        var r = Run(o);
        r.Rounds[0]["messages"]!["UpdateAck aggregator->client"]!.GetValue<long>().Should().Be(2);
        r.Summary["client_updates_counted"]!.GetValue<long>().Should().Be(2);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
    }

    [Fact]
    public void Duplicating_every_message_counts_and_acts_on_nothing_twice()
    {
        var o = Small(rounds: 2, steps: 2, clients: 3) with
        {
            Federation = Federation(3),
            Faults = new FaultPlan { Seed = 2, Rules = [new FaultRule { From = "*", To = "*", Duplicate = 1.0 }] },
        };
        var r = Run(o);
        RoundsOf(r).Should().Equal(1u, 2u);
        var s = r.Summary;
        s["client_updates_sent"]!.GetValue<long>().Should().Be(6);
        s["client_updates_counted"]!.GetValue<long>().Should().Be(6);
        s["client_updates_late"]!.GetValue<long>().Should().Be(0, "a duplicate of a counted update is not a late update");
        s["lost_updates"]!.GetValue<long>().Should().Be(0);
        foreach (var round in r.Rounds)
        {
            round["clients_completed"]!.GetValue<int>().Should().Be(3);
            round["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Under_drops_duplicates_and_corruption_each_round_is_recorded_once_and_no_update_is_counted_twice(int seed)
    {
        var o = Small(rounds: 3, steps: 2, clients: 3) with
        {
            Federation = Federation(3, maxRetries: 6, deadlineMinutes: 10),
            Faults = new FaultPlan { Seed = seed, Rules = [new FaultRule { From = "*", To = "*", Drop = 0.05, Duplicate = 0.01, Corrupt = 0.01 }] },
        };
        var r = Run(o);
        RoundsOf(r).Should().Equal(1u, 2u, 3u);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
        r.Summary["client_updates_counted"]!.GetValue<long>().Should().BeLessThanOrEqualTo(9);
    }

    [Fact]
    public void An_update_acknowledged_before_an_aggregator_restart_is_kept_and_the_round_closes_without_the_deadline()
    {
        // At 0.4 s one update of the three is acknowledged (the fault-free round takes 0.5 s).
        var o = Small(rounds: 1, steps: 2, clients: 3) with
        {
            Federation = Federation(3, deadlineMinutes: 10),
            Faults = new FaultPlan { Seed = 1, Crashes = [new CrashRule { Actor = "aggregator", At = TimeSpan.FromSeconds(0.4), Mode = CrashMode.Restart }] },
        };
        var r = Run(o);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
        r.Rounds[0]["clients_completed"]!.GetValue<int>().Should().Be(3);
        r.Rounds[0]["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
        r.Summary["faults"]!["crash_restart"]!.GetValue<long>().Should().Be(1);
    }

    [Fact]
    public void A_round_closes_as_soon_as_every_sampled_client_has_delivered_or_given_up()
    {
        var o = Small(rounds: 1, steps: 1, clients: 3) with
        {
            Federation = Federation(3),
            Faults = new FaultPlan { Seed = 1, Rules = [new FaultRule { From = "client-0001", To = "server", Drop = 1 }] },
        };
        var round = Run(o).Rounds[0];
        round["clients_completed"]!.GetValue<int>().Should().Be(2);
        round["dropped_reasons"]!.ToJsonString().Should().Be("{\"gave_up\":1}");
        round["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60, "three retransmissions 2 s apart, not the 30-minute deadline");
    }

    [Fact]
    public void A_client_that_fails_mid_round_restarts_rejoins_the_round_and_its_update_counts()
    {
        var o = Small(rounds: 1, steps: 2, clients: 3) with
        {
            Federation = Federation(3),
            Faults = new FaultPlan { Seed = 1, Crashes = [new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(0.1), Mode = CrashMode.Restart }] },
        };
        var r = Run(o);
        var round = r.Rounds[0];
        round["clients_completed"]!.GetValue<int>().Should().Be(3, round.ToJsonString());
        round["clients_rejoined"]!.GetValue<int>().Should().Be(1);
        round["dropped_reasons"]!.ToJsonString().Should().Be("{}");
        round["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
        r.Summary["faults"]!["crash_restart"]!.GetValue<long>().Should().Be(1);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.25)]
    public void In_sflv1_a_client_that_fails_and_rejoins_trains_what_it_would_have_and_the_model_is_the_fault_free_one(double crashAt)
    {
        // SFLv1: the rejoined client's body copy starts again from the global body, and every seed of its round is a
        // function of (round, client, step): its second try is its first, and the round ends where the fault-free one does.
        var clean = Small(mode: "sflv1", rounds: 2, steps: 3, clients: 3) with { Federation = Federation(3) };
        var faulty = clean with
        {
            Faults = new FaultPlan { Seed = 1, Crashes = [new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(crashAt), Mode = CrashMode.Restart }] },
        };
        var a = Run(clean);
        var b = Run(faulty);
        b.Rounds.Sum(x => x["clients_rejoined"]!.GetValue<int>()).Should().Be(1);
        b.Summary["final_model_hash"]!.GetValue<string>().Should().Be(a.Summary["final_model_hash"]!.GetValue<string>());
    }

    [Fact]
    public void A_client_that_fails_again_and_again_rejoins_at_most_max_retries_times_and_the_round_does_not_wait_for_it()
    {
        // client-0002 fails mid-round twice: it rejoins once (max-retries = 1), then it is failed for the round.
        var o = Small(rounds: 1, steps: 3, clients: 3) with
        {
            Federation = Federation(3, maxRetries: 1),
            Faults = new FaultPlan
            {
                Seed = 1,
                Crashes =
                [
                    new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(0.1), Mode = CrashMode.Restart },
                    new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(0.3), Mode = CrashMode.Restart },
                ],
            },
        };
        var round = Run(o).Rounds[0];
        round["clients_completed"]!.GetValue<int>().Should().Be(2, round.ToJsonString());
        round["clients_rejoined"]!.GetValue<int>().Should().Be(1);
        round["dropped_reasons"]!.ToJsonString().Should().Be("{\"failed\":1}", round.ToJsonString());
        round["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
    }

    [Fact]
    public void A_rejoined_client_is_served_although_the_word_of_its_failure_never_reached_the_split_server()
    {
        // Every RoundAbandoned to the server is lost: the server learns of the restart from the higher incarnation on the
        // client's next [1] and serves it from step 0 instead of taking it for a late duplicate.
        var o = Small(rounds: 1, steps: 3, clients: 3) with
        {
            Federation = Federation(3),
            Faults = new FaultPlan
            {
                Seed = 1,
                Rules = [new FaultRule { From = "client-0002", To = "server", Drop = 1, Messages = ["RoundAbandoned"] }],
                Crashes = [new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(0.25), Mode = CrashMode.Restart }],
            },
        };
        var r = Run(o);
        r.Rounds[0]["clients_completed"]!.GetValue<int>().Should().Be(3, r.Rounds[0].ToJsonString());
        r.Rounds[0]["clients_rejoined"]!.GetValue<int>().Should().Be(1);
        r.Rounds[0]["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
    }

    [Fact]
    public void A_client_that_crash_stops_is_accounted_for_by_death_watch_in_its_round_and_the_next()
    {
        // A stopped client says nothing: the aggregator's death watch marks it failed, in this round and whenever
        // it is sampled again, and neither round waits for its deadline.
        var o = Small(rounds: 2, steps: 2, clients: 3) with
        {
            Federation = Federation(3),
            Faults = new FaultPlan { Seed = 1, Crashes = [new CrashRule { Actor = "client-0002", At = TimeSpan.FromSeconds(0.1), Mode = CrashMode.Stop }] },
        };
        var r = Run(o);
        foreach (var round in r.Rounds)
        {
            round["clients_completed"]!.GetValue<int>().Should().Be(2, round.ToJsonString());
            round["dropped_reasons"]!.ToJsonString().Should().Be("{\"failed\":1}");
            round["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
        }
        r.Summary["faults"]!["crash_stop"]!.GetValue<long>().Should().Be(1);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
    }

    [Fact]
    public void After_a_split_server_restart_a_client_whose_step_the_server_lost_redoes_it_and_the_round_completes()
    {
        // At 0.2 s a client waits for transfer [4]: the restarted server has no saved step for its resent [3].
        var o = Small(rounds: 1, steps: 2, clients: 3) with
        {
            Federation = Federation(3, deadlineMinutes: 10),
            Faults = new FaultPlan { Seed = 1, Crashes = [new CrashRule { Actor = "server", At = TimeSpan.FromSeconds(0.2), Mode = CrashMode.Restart }] },
        };
        var r = Run(o);
        r.Rounds[0]["clients_completed"]!.GetValue<int>().Should().Be(3);
        r.Rounds[0]["round_simulated_s"]!.GetValue<double>().Should().BeLessThan(60);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
    }

    [Fact]
    public void Each_corrupt_envelope_is_detected_once_in_the_per_round_counters()
    {
        var o = Small(rounds: 2, steps: 2, clients: 3) with
        {
            Federation = Federation(3, maxRetries: 6),
            Faults = new FaultPlan { Seed = 5, Rules = [new FaultRule { From = "*", To = "*", Corrupt = 0.05 }] },
        };
        var r = Run(o);
        var detected = r.Summary["faults"]!["corrupt_detected"]!.GetValue<long>();
        detected.Should().BeGreaterThan(0);
        r.Rounds.Sum(x => x["faults"]!["detected"]!.GetValue<long>()).Should().Be(detected);
    }

    [Fact]
    public void A_client_whose_update_is_rejected_is_dropped_as_rejected_and_the_round_does_not_wait_for_it()
    {
        var o = Small(rounds: 1, steps: 1, clients: 2);
        var ctx = SimulationRunner.BuildContext(o, new SyntheticImages());
        using var system = ActorSystem.Create(new ActorSystemOptions { Clock = ClockMode.Virtual });
        var seen = new List<object>();
        var probe = system.ActorOf(Props.Create(() => new Probe(seen)), "probe");
        ctx.Server = ctx.Coordinator = probe;
        foreach (var c in ctx.Clients) ctx.ClientRefs[c.Id] = probe;
        var aggregator = system.ActorOf(Props.Create(() => new AggregatorActor(ctx)).WithRole("aggregator"), "aggregator");
        ctx.Aggregator = aggregator;
        var plan = new RoundPlan { Round = 1, LocalSteps = 1, DeadlineMs = 30 * 60 * 1000 };
        plan.Clients.AddRange(["client-0001", "client-0002"]);
        aggregator.Tell(plan, probe);
        system.RunFor(TimeSpan.FromSeconds(1));
        var bad = new ClientUpdate { Round = 1, Client = "client-0001", Samples = 2 };
        bad.Parameters.Add(new NamedTensor { Name = "g_a.0.weight", Shape = { 2, 2 }, Data = Google.Protobuf.ByteString.CopyFrom(new byte[3]) });
        aggregator.Tell(bad, probe);
        aggregator.Tell(new RoundAbandoned { Round = 1, Client = "client-0002", Reason = "test" }, probe);
        system.RunFor(TimeSpan.FromSeconds(10));
        var result = seen.OfType<RoundResult>().Should().ContainSingle("the round closes once both clients are accounted for").Subject;
        result.DroppedReasons.Should().BeEquivalentTo(new Dictionary<string, string> { ["client-0001"] = "rejected", ["client-0002"] = "gave_up" });
        ctx.Updates.Rejected.Should().Be(1);
    }

    private sealed class Probe : ReceiveActor
    {
        public Probe(List<object> seen) => ReceiveAny(m => { lock (seen) seen.Add(m); });
    }

    [Fact]
    public void A_corrupt_training_image_that_is_not_the_first_of_its_folder_stops_the_run_up_front_naming_folder_and_file()
    {
        using var dir = new TempFolder();
        var folder = dir["images"];
        Directory.CreateDirectory(folder);
        var good = File.ReadAllBytes(Path.Combine(Repo.Datasets, "bsds500", "train", "100075.jpg"));
        File.WriteAllBytes(Path.Combine(folder, "a.jpg"), good);
        File.WriteAllBytes(Path.Combine(folder, "b.jpg"), "not a jpeg at all"u8.ToArray());
        File.WriteAllBytes(Path.Combine(folder, "c.jpg"), good);
        var load = () => TrainingImageSet.Load(dir.Path, ["images"]);
        load.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(Path.GetFullPath(folder)).And.Contain("b.jpg");
    }
}
