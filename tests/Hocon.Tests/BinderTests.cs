namespace CoFUsfl.Hocon.Tests;

public enum Optimizer { Sgd, AdamW, RmsProp }

public sealed record Schedule(int Warmup, double Decay = 0.5);

public sealed record TrainingOptions(
    int LocalSteps,
    long Budget,
    double LearningRate,
    bool Shuffle,
    string Name,
    TimeSpan Timeout,
    Optimizer Optimizer,
    IReadOnlyList<int> Milestones,
    string[] Tags,
    IReadOnlyDictionary<string, double> Weights,
    Schedule Schedule,
    int? MaxClients,
    string? Comment,
    int Retries = 3);

public sealed class MutableOptions
{
    public int Port { get; set; } = 80;
    public string Host { get; init; } = "localhost";
    public required string Mode { get; init; }
}

/// <summary>Binding config objects to records and classes.</summary>
public class BinderTests
{
    private const string Training = """
        cofusfl.training {
          local-steps = 5
          budget = 10000000000
          learning-rate = 1e-3
          shuffle = yes
          name = run-1
          timeout = 90 s
          optimizer = adam-w
          milestones = [10, 20]
          tags = [a, b]
          weights { mse = 1.0, "lpips" = 0.25 }
          schedule { warmup = 100 }
          max-clients = null
        }
        """;

    [Fact]
    public void Kebab_case_keys_bind_to_pascal_case_record_parameters()
    {
        var o = H.Resolved(Training).GetConfig("cofusfl.training").Bind<TrainingOptions>();
        o.LocalSteps.Should().Be(5);
        o.Budget.Should().Be(10_000_000_000);
        o.LearningRate.Should().Be(0.001);
        o.Shuffle.Should().BeTrue();
        o.Name.Should().Be("run-1");
        o.Timeout.Should().Be(TimeSpan.FromSeconds(90));
        o.Optimizer.Should().Be(Optimizer.AdamW);
        o.Milestones.Should().Equal(10, 20);
        o.Tags.Should().Equal("a", "b");
        o.Weights.Should().BeEquivalentTo(new Dictionary<string, double> { ["mse"] = 1.0, ["lpips"] = 0.25 });
        o.Schedule.Should().Be(new Schedule(100, 0.5));
        o.MaxClients.Should().BeNull();
        o.Comment.Should().BeNull();
        o.Retries.Should().Be(3);
    }

    [Theory]
    [InlineData("adam-w", Optimizer.AdamW)]
    [InlineData("AdamW", Optimizer.AdamW)]
    [InlineData("rms-prop", Optimizer.RmsProp)]
    [InlineData("sgd", Optimizer.Sgd)]
    public void Enums_bind_from_kebab_case_or_exact_names(string text, Optimizer expected)
    {
        var c = H.Resolved(Training + $"\ncofusfl.training.optimizer = {text}");
        c.GetConfig("cofusfl.training").Bind<TrainingOptions>().Optimizer.Should().Be(expected);
    }

    [Fact]
    public void Missing_required_value_names_the_full_path_and_origin()
    {
        var c = H.Resolved(Training.Replace("local-steps = 5", ""));
        var e = H.Error(() => c.GetConfig("cofusfl.training").Bind<TrainingOptions>());
        e.Detail.Should().Contain("'cofusfl.training.local-steps'");
        e.File.Should().Be("test.conf");
        e.Line.Should().Be(1);
    }

    [Fact]
    public void Wrong_type_names_the_full_path_and_line()
    {
        var c = H.Resolved(Training.Replace("local-steps = 5", "local-steps = many"));
        var e = H.Error(() => c.GetConfig("cofusfl.training").Bind<TrainingOptions>());
        e.Detail.Should().Contain("'cofusfl.training.local-steps'").And.Contain("NUMBER");
        e.Line.Should().Be(2);
    }

    [Fact]
    public void Nested_wrong_type_names_the_nested_path()
    {
        var c = H.Resolved(Training.Replace("warmup = 100", "warmup = [1]"));
        H.Error(() => c.GetConfig("cofusfl.training").Bind<TrainingOptions>()).Detail.Should().Contain("'cofusfl.training.schedule.warmup'");
    }

    [Fact]
    public void Unknown_enum_value_lists_the_choices()
    {
        var c = H.Resolved(Training + "\ncofusfl.training.optimizer = lbfgs");
        H.Error(() => c.GetConfig("cofusfl.training").Bind<TrainingOptions>()).Detail.Should().Contain("sgd, adam-w, rms-prop");
    }

    [Fact]
    public void Fractional_value_for_an_integer_is_an_error()
    {
        var c = H.Resolved(Training.Replace("local-steps = 5", "local-steps = 5.5"));
        H.Error(() => c.GetConfig("cofusfl.training").Bind<TrainingOptions>()).Detail.Should().Contain("fractional");
    }

    [Fact]
    public void Settable_properties_bind_and_keep_defaults_when_absent()
    {
        var o = H.Resolved("port = 8080, mode = fast").Bind<MutableOptions>();
        o.Port.Should().Be(8080);
        o.Host.Should().Be("localhost");
        o.Mode.Should().Be("fast");
    }

    [Fact]
    public void Required_property_must_be_present()
    {
        H.Error(() => H.Resolved("port = 1").Bind<MutableOptions>()).Detail.Should().Contain("'mode'");
    }

    [Fact]
    public void Kebab_case_conversion_handles_acronyms()
    {
        ConfigBinder.Kebab("LocalSteps").Should().Be("local-steps");
        ConfigBinder.Kebab("HTTPPort").Should().Be("http-port");
        ConfigBinder.Kebab("Lr2Scale").Should().Be("lr2-scale");
    }
}
