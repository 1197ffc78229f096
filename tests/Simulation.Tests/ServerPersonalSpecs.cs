using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Metrics;
using CoFUsfl.Simulation.Roles;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Strategies;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>FedLC: split-server parameters kept per client (<c>federation.server-personal</c>).</summary>
public class ServerPersonalSpecs
{
    private static readonly string[] EntropyModel = ["entropy_bottleneck.*", "h_s.*"];

    private static SimulationOptions FedLc(string mode = "sflv2", int rounds = 2, string[]? serverPersonal = null) =>
        SimulationSpecs.Small(features: "adaptive", mode: mode, rounds: rounds, steps: 2, clients: 3) is var o
            ? o with { Federation = o.Federation with { ServerPersonal = serverPersonal ?? EntropyModel } }
            : throw new InvalidOperationException();

    private static ParameterSet Load(string path)
    {
        var tensors = Safetensors.Load(path, new Dictionary<string, string>());
        try
        {
            var set = new ParameterSet();
            using var scope = DisposeScope.Open();
            foreach (var (n, t) in tensors) set.Set(n, t.shape, t.@float().data<float>());
            return set;
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    private static ParameterSet InitialServer(SimulationOptions o)
    {
        var ctx = SimulationRunner.BuildContext(o, new SyntheticImages());
        using var g = new Generator(ctx.DeriveSeed("init"));
        using var server = new ServerModel(ctx.Plan, ctx.EntropyDownlink, o.Split.Features.GainInit, g);
        return ParameterSet.FromModule(server.named_parameters());
    }

    private static (ParameterSet Global, SortedDictionary<string, (ParameterSet Values, ParameterSet Optimizer)> PerClient, RunOutcome Run) RunFedLc(SimulationOptions o)
    {
        var run = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages());
        var ck = Path.Combine(run.RunDirectory, "checkpoints");
        return (Load(Path.Combine(ck, "latest.safetensors")), ServerPersonalization.Split(Load(Path.Combine(ck, RunCheckpoints.ServerPersonalCheckpointFile))), run);
    }

    private static bool Personal(string name) => name.StartsWith("entropy_bottleneck.", StringComparison.Ordinal) || name.StartsWith("h_s.", StringComparison.Ordinal);

    [Theory]
    [InlineData("sflv2")]
    [InlineData("sflv1")]
    public void Each_client_trains_its_own_entropy_model_and_the_global_model_keeps_the_initial_one(string mode)
    {
        var o = FedLc(mode);
        var initial = InitialServer(o);
        var (global, perClient, _) = RunFedLc(o);

        perClient.Keys.Should().Equal("client-0001", "client-0002", "client-0003");
        var names = initial.Names.Where(Personal).ToList();
        names.Should().Contain("entropy_bottleneck.quantiles").And.Contain(n => n.StartsWith("h_s.", StringComparison.Ordinal));
        foreach (var (_, (values, optimizer)) in perClient)
        {
            values.Names.Should().Equal(names);
            optimizer.Names.Should().Contain("main.step").And.Contain("aux.step");
        }
        foreach (var n in names)
        {
            // Never averaged, never sent anywhere: the global model still holds the initial values.
            global[n].Values.Should().Equal(initial[n].Values, $"{n} is per client");
            perClient["client-0001"].Values[n].Values.Should().NotEqual(initial[n].Values, $"client-0001 trained its {n}");
        }
        foreach (var n in names.Where(n => !n.EndsWith("quantiles", StringComparison.Ordinal)))
            perClient["client-0001"].Values[n].Values.Should().NotEqual(perClient["client-0002"].Values[n].Values, $"clients train {n} on their own data");
        global["g_a.2.weight"].Values.Should().NotEqual(initial["g_a.2.weight"].Values, "the shared body trains as before");
    }

    [Fact]
    public void Everything_personal_on_both_sides_is_local_training()
    {
        var o = FedLc(serverPersonal: ["*"]);
        o = o with { Federation = o.Federation with { Personal = ["*"] } };
        var initial = InitialServer(o);
        var (global, perClient, run) = RunFedLc(o);
        foreach (var n in initial.Names) global[n].Values.Should().Equal(initial[n].Values, $"{n} is per client");
        perClient["client-0001"].Values.Count.Should().Be(initial.Count);
        run.Rounds[^1]["clients_completed"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_model_and_per_client_parameters()
    {
        var a = RunFedLc(FedLc());
        var b = RunFedLc(FedLc());
        a.Run.Summary["final_model_hash"]!.GetValue<string>().Should().Be(b.Run.Summary["final_model_hash"]!.GetValue<string>());
        a.Run.Rounds.Select(r => r["train"]!.ToJsonString()).Should().Equal(b.Run.Rounds.Select(r => r["train"]!.ToJsonString()));
        foreach (var c in a.PerClient.Keys)
        {
            a.PerClient[c].Values.Hash().Should().Be(b.PerClient[c].Values.Hash());
            a.PerClient[c].Optimizer.Hash().Should().Be(b.PerClient[c].Optimizer.Hash());
        }
    }

    [Fact]
    public void A_run_stopped_and_resumed_keeps_every_clients_server_side_parameters()
    {
        var o = FedLc(rounds: 3);
        var through = RunFedLc(o);
        var dir = SimulationSpecs.TempDir();
        SimulationRunner.Run(o with { Run = o.Run with { Rounds = 1 } }, new RunRequest(dir), images: new SyntheticImages());
        var resumed = SimulationRunner.Run(o, new RunRequest(dir, Resume: true), images: new SyntheticImages());
        resumed.Summary["final_model_hash"]!.GetValue<string>().Should().Be(through.Run.Summary["final_model_hash"]!.GetValue<string>());
        var perClient = ServerPersonalization.Split(Load(Path.Combine(dir, "checkpoints", RunCheckpoints.ServerPersonalCheckpointFile)));
        foreach (var c in through.PerClient.Keys) perClient[c].Values.Hash().Should().Be(through.PerClient[c].Values.Hash(), c);
    }

    [Theory]
    [InlineData("server-personal", "entropy_botleneck.*")]
    [InlineData("personal", "feature9.*")]
    public void A_pattern_that_matches_no_parameter_is_refused_naming_the_key(string key, string pattern)
    {
        var o = FedLc();
        o = o with
        {
            Federation = key == "personal"
                ? o.Federation with { Personal = [pattern] }
                : o.Federation with { ServerPersonal = [pattern] },
        };
        var act = () => SimulationRunner.BuildContext(o, new SyntheticImages());
        act.Should().Throw<ArgumentException>().WithMessage($"*cofusfl.federation.{key}*\"{pattern}\"*matches no*");
    }

    [Fact]
    public void A_per_client_split_2_density_with_tables_frozen_from_the_shared_model_is_refused()
    {
        var o = SimulationSpecs.Small(features: "entropy") is var s ? s with { Federation = s.Federation with { ServerPersonal = ["feature2.*"] } } : null!;
        var act = () => SimulationRunner.BuildContext(o, new SyntheticImages());
        act.Should().Throw<ArgumentException>().WithMessage("*server-personal matches feature2.*downlink = adaptive*");
    }

    private static SimulationOptions PerClient(SimulationOptions o) => o with
    {
        Data = o.Data with { Partition = new PartitionOptions { Kind = "domain" } },
        Evaluation = o.Evaluation with { PerClient = true },
    };

    [Fact]
    public void Held_out_images_are_never_trained_on()
    {
        var ctx = SimulationRunner.BuildContext(PerClient(FedLc()), new SyntheticImages());
        var held = ctx.HeldOut.SelectMany(h => h).ToHashSet();
        held.Should().Equal(7, 15);
        ctx.Clients.SelectMany(c => c.Images).Should().NotIntersectWith(held);
    }

    [Fact]
    public void Each_client_is_evaluated_with_its_own_parameters_on_its_own_domain()
    {
        var run = SimulationRunner.Run(PerClient(FedLc(rounds: 1)), new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages());
        var pc = run.Rounds[^1]["eval_per_client"]!.AsObject();
        pc["clients_evaluated"]!.GetValue<int>().Should().Be(3);
        var clients = pc["clients"]!.AsObject();
        // Domain partition: clients 1 and 3 draw from the first domain, client 2 from the second.
        clients["client-0001"]!["domains"]!.AsObject().Select(kv => kv.Key).Should().Equal("synthetic");
        clients["client-0002"]!["domains"]!.AsObject().Select(kv => kv.Key).Should().Equal("domain-1");
        clients["client-0001"]!["personal"]!.GetValue<bool>().Should().BeTrue();
        // The hyperprior's ŷ does not depend on the entropy model, and the tiny test codec writes the same bytes either way;
        // the rate under each client's own entropy model tells them apart.
        clients["client-0001"]!["bpp_estimated"]!.GetValue<double>().Should().NotBe(clients["client-0003"]!["bpp_estimated"]!.GetValue<double>(),
            "the same image coded with two clients' own entropy models");
        pc["domains"]!["synthetic"]!["clients"]!.GetValue<int>().Should().Be(2);
        run.Summary["per_client"]!["psnr"]!.GetValue<double>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void Without_personal_parameters_every_client_of_a_domain_gets_the_global_codecs_figures()
    {
        var o = PerClient(FedLc(rounds: 1)) is var p ? p with { Federation = p.Federation with { ServerPersonal = [] } } : null!;
        var run = SimulationRunner.Run(o, new RunRequest(SimulationSpecs.TempDir()), images: new SyntheticImages());
        var clients = run.Rounds[^1]["eval_per_client"]!["clients"]!.AsObject();
        clients["client-0001"]!["personal"]!.GetValue<bool>().Should().BeFalse();
        clients["client-0001"]!.ToJsonString().Should().Be(clients["client-0003"]!.ToJsonString());
    }

    [Fact]
    public void A_restarted_split_server_picks_up_every_clients_parameters_of_the_last_round_end()
    {
        var o = FedLc(rounds: 2);
        var initial = InitialServer(o);
        var roundOneEnds = RunFedLc(o).Run.Rounds[0]["simulated_time_s"]!.GetValue<double>();
        var crashed = o with
        {
            Faults = new Actors.FaultPlan
            {
                Seed = 1,
                Crashes = [new Actors.CrashRule { Actor = "server", At = TimeSpan.FromSeconds(roundOneEnds + 0.2), Mode = Actors.CrashMode.Restart }],
            },
        };
        var (global, perClient, run) = RunFedLc(crashed);
        run.Summary["faults"]!["crash_restart"]!.GetValue<long>().Should().Be(1);
        run.Rounds[1]["clients_completed"]!.GetValue<int>().Should().Be(3);
        perClient.Keys.Should().Equal("client-0001", "client-0002", "client-0003");
        foreach (var n in initial.Names.Where(Personal)) global[n].Values.Should().Equal(initial[n].Values, n);
    }
}
