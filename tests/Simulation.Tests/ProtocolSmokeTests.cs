using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests;

public class ProtocolSmokeTests
{
    internal static SimulationOptions Small(string features = "entropy", string mode = "sflv2") => new()
    {
        Seed = 3,
        Run = new RunOptions { Rounds = 2, Name = "t" },
        Model = new ModelOptions { Name = "bmshj2018-hyperprior", N = 8, M = 12 },
        Data = new DataOptions { Train = ["synthetic"], Crop = 64, BatchSize = 2 },
        Split = new SplitOptions { Head = 2, Tail = 5, Features = new FeatureCodecOptions { Uplink = features, Downlink = features } },
        Training = new TrainingOptions { Mode = mode, LocalSteps = 3, ClientOptimizer = new OptimizerOptions { Lr = 1e-3 }, ServerOptimizer = new OptimizerOptions { Lr = 1e-3 } },
        Federation = new FederationOptions { Clients = 3, ClientsPerRound = 3 },
        Evaluation = new EvaluationOptions { Enabled = false },
    };

    [Fact]
    public void A_three_client_run_completes_every_round()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cofusfl-test-" + Guid.NewGuid().ToString("N"));
        var outcome = SimulationRunner.Run(Small(), new RunRequest(dir), images: new SyntheticImages());
        outcome.Rounds.Should().HaveCount(2);
        outcome.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
        outcome.Rounds.Should().OnlyContain(r => r["clients_completed"]!.GetValue<int>() == 3);
    }
}
