using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Strategies;

namespace CoFUsfl.Simulation.Tests;

/// <summary>The federated strategy seam: FedAvg as before, FedAdam as Reddi et al. write it.</summary>
public class StrategySpecs
{
    private static ParameterSet Set(params float[] v)
    {
        var s = new ParameterSet();
        s.Set("w", [v.Length], v);
        return s;
    }

    [Fact]
    public void FedAvg_is_the_sample_weighted_mean_of_the_updates()
    {
        var next = new FedAvgStrategy().AggregateFit(1, Set(0, 0), [new("a", Set(1, 4), 1), new("b", Set(4, 1), 2)]);
        next["w"].Values.Should().Equal(3f, 2f);
    }

    [Fact]
    public void FedAdam_moves_the_global_model_by_server_Adam_on_the_pseudo_gradient_and_keeps_its_moments()
    {
        var s = new FedAdamStrategy(new FedAdamOptions { Lr = 0.01, Beta1 = 0.9, Beta2 = 0.99, Tau = 1e-3 });
        var x = Set(1, 2);
        // Round 1: Δ = FedAvg − x = [1, −2]; m = 0.1·Δ; v = 0.01·Δ²; x + η·m / (√v + τ).
        var x1 = s.AggregateFit(1, x, [new("a", Set(2, 0), 1)]);
        x1["w"].Values[0].Should().BeApproximately((float)(1 + 0.01 * 0.1 / (0.1 + 1e-3)), 1e-6f);
        x1["w"].Values[1].Should().BeApproximately((float)(2 - 0.01 * 0.2 / (0.2 + 1e-3)), 1e-6f);
        // Round 2, the same update again: the moments carry over.
        var d = new[] { 2 - x1["w"].Values[0], 0 - x1["w"].Values[1] };
        double m0 = 0.9 * 0.1 + 0.1 * d[0], v0 = 0.99 * 0.01 + 0.01 * d[0] * d[0];
        var x2 = s.AggregateFit(2, x1, [new("a", Set(2, 0), 1)]);
        x2["w"].Values[0].Should().BeApproximately((float)(x1["w"].Values[0] + 0.01 * m0 / (Math.Sqrt(v0) + 1e-3)), 1e-6f);
        // SFLv1 bodies are averaged.
        s.AggregateBodies(1, [new("a", Set(1, 1), 1), new("b", Set(3, 3), 1)])["w"].Values.Should().Equal(2f, 2f);
    }

    private static SimulationOptions WithStrategy(string name) =>
        SimulationSpecs.Small(rounds: 2, steps: 2) is var o
            ? o with { Federation = o.Federation with { Strategy = new StrategyOptions { Name = name } } }
            : throw new InvalidOperationException();

    [Fact]
    public void A_FedAdam_run_trains_is_deterministic_and_differs_from_FedAvg()
    {
        var a = SimulationSpecs.Run(WithStrategy("fedadam"));
        var b = SimulationSpecs.Run(WithStrategy("fedadam"));
        var avg = SimulationSpecs.Run(WithStrategy("fedavg"));
        a.Summary["final_model_hash"]!.GetValue<string>().Should().Be(b.Summary["final_model_hash"]!.GetValue<string>());
        a.Summary["final_model_hash"]!.GetValue<string>().Should().NotBe(avg.Summary["final_model_hash"]!.GetValue<string>());
        a.Rounds.Should().OnlyContain(r => double.IsFinite(r["train"]!["loss"]!.GetValue<double>()));
        // FedAvg through the strategy is the run it always was: the default configuration gives the same hash.
        avg.Summary["final_model_hash"]!.GetValue<string>().Should().Be(SimulationSpecs.Run(SimulationSpecs.Small(rounds: 2, steps: 2)).Summary["final_model_hash"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("fedprox", 1e-3, "cofusfl.federation.strategy.name = \"fedprox\": one of fedavg, fedadam")]
    [InlineData("fedadam", 0.0, "cofusfl.federation.strategy.fedadam.tau = 0: a finite number > 0")]
    public void A_bad_strategy_is_rejected_naming_the_key(string name, double tau, string message)
    {
        var o = SimulationSpecs.Small();
        var bad = o with { Federation = o.Federation with { Strategy = new StrategyOptions { Name = name, FedAdam = new FedAdamOptions { Tau = tau } } } };
        FluentActions.Invoking(() => SimulationRunner.Validate(bad)).Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Fact]
    public void A_FedAdam_run_is_not_resumed_as_if_its_moments_were_saved()
    {
        var dir = SimulationSpecs.TempDir();
        var o = WithStrategy("fedadam") with { Run = new RunOptions { Rounds = 1, Name = "t" } };
        SimulationRunner.Run(o, new RunRequest(dir), images: new SyntheticImages());
        FluentActions.Invoking(() => SimulationRunner.Run(o with { Run = o.Run with { Rounds = 2 } }, new RunRequest(dir, Resume: true), images: new SyntheticImages()))
            .Should().Throw<ArgumentException>().WithMessage("--resume: cofusfl.federation.strategy.name = \"fedadam\"*not checkpointed*");
    }
}
