using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;

namespace CoFUsfl.Simulation.Tests;

public class HeterogeneitySpecs
{
    [Fact]
    public void An_availability_trace_decides_who_can_be_sampled_each_round()
    {
        var trace = Path.GetTempFileName();
        File.WriteAllText(trace, "# client-0002 is off in round 1, on in round 2\nclient-0002 01\nclient-0003 0\n");
        var o = SimulationSpecs.Small(rounds: 2, steps: 1, clients: 3) with
        {
            Clients = new ClientPopulationOptions { AvailabilityTrace = trace },
        };
        var r = SimulationSpecs.Run(o);
        r.Rounds[0]["clients_completed"]!.GetValue<int>().Should().Be(1, "only client-0001 is available in round 1");
        r.Rounds[1]["clients_completed"]!.GetValue<int>().Should().Be(2, "client-0001 and client-0002 in round 2; client-0003 never");
    }

    [Fact]
    public void A_malformed_availability_trace_names_its_line()
    {
        var trace = Path.GetTempFileName();
        File.WriteAllText(trace, "client-0001 1\nclient-0002 1x0\n");
        var act = () => AvailabilityTrace.Load(trace);
        act.Should().Throw<InvalidDataException>().WithMessage($"{trace}:2:*");
    }

    [Fact]
    public void Local_epochs_give_clients_with_more_images_more_steps()
    {
        var o = SimulationSpecs.Small(rounds: 1, steps: 1, clients: 2) with
        {
            Training = SimulationSpecs.Small().Training with { LocalEpochs = 0.5 },
            Data = SimulationSpecs.Small().Data with { Partition = new PartitionOptions { Kind = "iid", SamplesPerClient = 8 } },
        };
        var r = SimulationSpecs.Run(o);
        // 8 images × 0.5 epochs / batch 2 = 2 steps per client, 2 clients × 2 steps × batch 2 samples.
        r.Rounds[0]["samples"]!.GetValue<long>().Should().Be(8);
    }
}

public class RealClockSpecs
{
    [Fact]
    public void An_entropy_coded_run_on_the_real_clock_completes_with_every_update_counted()
    {
        var o = SimulationSpecs.Small(rounds: 1, steps: 2, clients: 3) with { Runtime = new RuntimeOptions { Clock = "real" } };
        var r = SimulationSpecs.Run(o);
        r.Rounds.Single()["clients_completed"]!.GetValue<int>().Should().Be(3);
        r.Summary["lost_updates"]!.GetValue<long>().Should().Be(0);
        r.Summary["bytes_by_kind"]!["transfer1_features_up"]!.GetValue<long>().Should().BeGreaterThan(0);
    }
}

public class ValidationSpecs
{
    [Theory]
    [InlineData("gain")]
    [InlineData("topk")]
    [InlineData("lr")]
    [InlineData("retry")]
    public void Values_that_would_only_fail_inside_an_actor_are_refused_up_front_naming_the_key(string what)
    {
        var o = SimulationSpecs.Small();
        o = what switch
        {
            "gain" => o with { Split = o.Split with { Features = o.Split.Features with { GainInit = 0 } } },
            "topk" => o with { Split = o.Split with { Gradients = o.Split.Gradients with { TopkRatio = 1.5 } } },
            "lr" => o with { Training = o.Training with { ServerOptimizer = new OptimizerOptions { Lr = -1 } } },
            _ => o with { Federation = o.Federation with { RetryTimeout = TimeSpan.Zero } },
        };
        var act = () => CoFUsfl.Simulation.Runner.SimulationRunner.Validate(o);
        act.Should().Throw<ArgumentException>().WithMessage("cofusfl.*");
    }
}
