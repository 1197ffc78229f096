using CoFUsfl.Hocon;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Runner;
using CoFUsfl.Simulation.Tests.Cli;
using CoFUsfl.Simulation.Training;

namespace CoFUsfl.Simulation.Tests;

/// <summary>
/// Values that bind but cannot run are rejected by <see cref="SimulationRunner.Validate"/> before anything is loaded,
/// allocated or written, naming the key, the value and the allowed range. The base is the tiny 2-client CLI configuration.
/// </summary>
public class RangeValidationSpecs
{
    private static SimulationOptions Bind(string extra) => SimulationConfig.Bind(Config.ParseString(TinyConfig.Run(extra: extra), "test.conf")
        .WithFallback(Config.ParseString(ReferenceConfig.Text, "reference.conf")).Resolve(new ResolveOptions { UseEnvironment = false }));

    private static ArgumentException Rejected(string extra) =>
        FluentActions.Invoking(() => SimulationRunner.Validate(Bind(extra))).Should().Throw<ArgumentException>().Which;

    [Theory]
    [InlineData("runtime.reference-macs-per-second = 0", "cofusfl.runtime.reference-macs-per-second = 0: a finite number > 0")]
    [InlineData("runtime.server-speed = 0", "cofusfl.runtime.server-speed = 0: a finite number > 0")]
    [InlineData("runtime.server-uplink-mbps = -1", "cofusfl.runtime.server-uplink-mbps = -1: a finite number > 0")]
    [InlineData("training.client-optimizer.lr = 0", "cofusfl.training.client-optimizer.lr = 0: a finite number > 0")]
    [InlineData("training.server-optimizer.lr = -1e-4", "cofusfl.training.server-optimizer.lr = -0.0001: a finite number > 0")]
    [InlineData("training.client-optimizer.lr = Infinity", "cofusfl.training.client-optimizer.lr = ")]
    [InlineData("training.server-optimizer.lr = NaN", "cofusfl.training.server-optimizer.lr = NaN: a finite number > 0")]
    [InlineData("training.aux-lr = NaN", "cofusfl.training.aux-lr = NaN: a finite number > 0")]
    [InlineData("training.lr-schedule.gamma = 0", "cofusfl.training.lr-schedule.gamma = 0: a finite number in (0, 1]")]
    [InlineData("training.lr-schedule.gamma = 2", "cofusfl.training.lr-schedule.gamma = 2: a finite number in (0, 1]")]
    [InlineData("training.lr-schedule.milestones = [5, 3]", "cofusfl.training.lr-schedule.milestones = [5, 3]: increasing round numbers >= 1")]
    [InlineData("training.lr-schedule.milestones = [0]", "cofusfl.training.lr-schedule.milestones = [0]: increasing round numbers >= 1")]
    [InlineData("training.clip-grad-norm = -1", "cofusfl.training.clip-grad-norm = -1: 0 (off) or a finite number > 0")]
    [InlineData("clients.profiles = [{ latency = [-5 ms, 20 ms] }]", "cofusfl.clients.profiles[default].latency = [-00:00:00.0050000, 00:00:00.0200000]: [min, max] with 0 ≤ min ≤ max")]
    [InlineData("run.checkpoint-every = -1", "cofusfl.run.checkpoint-every = -1: 0 (only at the end) or more")]
    [InlineData("evaluation.every = -2", "cofusfl.evaluation.every = -2: 0 (only at the end) or more")]
    [InlineData("evaluation.limit = -1", "cofusfl.evaluation.limit = -1: 0 (all images) or more")]
    [InlineData("data.partition.samples-per-client = -1", "cofusfl.data.partition.samples-per-client = -1: 0 (an equal share) or more")]
    [InlineData("torch.threads = -1", "cofusfl.torch.threads = -1: 0 (one per processor) or more")]
    [InlineData("federation.over-commit = 3", "cofusfl.federation.over-commit = 3: between 0 and clients (2)")]
    [InlineData("federation.clients = 2147483647", "cofusfl.federation.clients = 2147483647: between 1 and 1000000")]
    [InlineData("federation.clients = 1e8", "cofusfl.federation.clients = 100000000: between 1 and 1000000")]
    [InlineData("faults.crashes = [{ actor = \"client-0099\", at = 5 s }]", "cofusfl.faults.crashes.0.actor = \"client-0099\": matches no actor of this run (client-0001 to client-0002")]
    [InlineData("faults.rules = [{ from = \"clinet\", drop = 0.1 }]", "cofusfl.faults.rules.0.from = \"clinet\": matches no actor")]
    [InlineData("faults.rules = [{ from = \"client\", drop = 0.1, messages = [\"RoundAbandonned\"] }]", "cofusfl.faults.rules.0.messages.0 = \"RoundAbandonned\": no message of the protocol has this type")]
    [InlineData("faults.partitions = [{ side-a = [\"client-0001\"], side-b = [\"sever\"] }]", "cofusfl.faults.partitions.0.side-b.0 = \"sever\": matches no actor")]
    public void A_value_out_of_range_is_rejected_naming_key_value_and_range(string setting, string message)
    {
        Rejected(setting).Message.Should().StartWith(message);
    }

    [Theory]
    [InlineData("faults.crashes = [{ actor = \"client-0002\", at = 5 s }]")]
    [InlineData("faults.crashes = [{ actor = \"client\", at = 5 s }, { actor = \"server\", at = 1 s, mode = restart }]")]
    [InlineData("faults.crashes = [{ actor = \"client-000?\", at = 5 s }, { actor = \"*\", probability = 0.01 }]")]
    [InlineData("faults.rules = [{ from = \"client\", to = \"server\", drop = 0.1 }, { from = \"aggregator\", to = \"coordinator\" }]")]
    [InlineData("faults.crashes = [{ actor = \"user/client-0099\", at = 5 s }]")] // paths depend on placement: not checked
    [InlineData("federation { clients = 2, over-commit = 2 }")]
    [InlineData("training.clip-grad-norm = 0, evaluation { every = 0, limit = 0 }, torch.threads = 0, run.checkpoint-every = 0")]
    [InlineData("clients.profiles = [{ latency = [0 ms, 0 ms] }]")]
    public void Values_at_the_edges_of_their_ranges_and_patterns_that_match_an_actor_are_accepted(string setting)
    {
        FluentActions.Invoking(() => SimulationRunner.Validate(Bind(setting))).Should().NotThrow();
    }

    [Fact]
    public void Codec_training_rejects_a_schedule_that_is_not_increasing_or_a_gamma_out_of_range()
    {
        FluentActions.Invoking(() => CodecTrainer.Validate(new CodecTrainingOptions { LrSchedule = new LrScheduleOptions { Milestones = [10, 10] } }))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.codec-training.lr-schedule.milestones = [10, 10]: increasing step numbers >= 1");
        FluentActions.Invoking(() => CodecTrainer.Validate(new CodecTrainingOptions { LrSchedule = new LrScheduleOptions { Gamma = double.NaN } }))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.codec-training.lr-schedule.gamma = NaN*");
    }

    [Theory]
    [InlineData("lr", 0.0)]
    [InlineData("aux-lr", double.PositiveInfinity)]
    public void Codec_training_rejects_a_learning_rate_that_is_not_finite_and_positive(string key, double value)
    {
        var t = key == "lr" ? new CodecTrainingOptions { Lr = value } : new CodecTrainingOptions { AuxLr = value };
        FluentActions.Invoking(() => CodecTrainer.Validate(t)).Should().Throw<ArgumentException>()
            .Which.Message.Should().StartWith($"cofusfl.codec-training.{key} = ").And.EndWith("a finite number > 0");
    }
}
