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

public sealed record Delay(TimeSpan Mean, double Probability = 1);

public sealed record LinkRule
{
    public string From { get; init; } = "*";
    public double Drop { get; init; }
    public Delay? Delay { get; init; }
}

public sealed record Faults(IReadOnlyList<LinkRule> Rules, IReadOnlyDictionary<string, LinkRule[]>? Named = null);

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

    [Fact]
    public void An_unknown_key_in_a_list_element_is_an_error_at_the_key_with_the_nearest_member()
    {
        var c = H.Resolved("faults {\n  rules = [\n    { from = client, drop = 0.1 }\n    { from = client, dorp = 0.5 }\n  ]\n}");
        var e = H.Error(() => c.GetConfig("faults").Bind<Faults>());
        (e.Line, e.Column).Should().Be((4, 22));
        e.Detail.Should().Be("unknown key 'faults.rules.1.dorp' (did you mean 'faults.rules.1.drop'?)");
    }

    [Fact]
    public void An_unknown_key_in_an_object_inside_a_list_element_is_an_error()
    {
        var c = H.Resolved("rules = [{ delay { mean = 20 ms, probabilty = 0.5 } }]");
        H.Error(() => c.Bind<Faults>()).Detail.Should().Be("unknown key 'rules.0.delay.probabilty' (did you mean 'rules.0.delay.probability'?)");
    }

    [Fact]
    public void An_unknown_key_in_an_array_element_under_a_dictionary_is_an_error()
    {
        var c = H.Resolved("rules = [], named { slow = [{ form = server }] }");
        H.Error(() => c.Bind<Faults>()).Detail.Should().Be("unknown key 'named.slow.0.form' (did you mean 'named.slow.0.from'?)");
    }

    [Fact]
    public void List_elements_accept_every_member_in_kebab_or_exact_case()
    {
        var c = H.Resolved("rules = [{ from = a, Drop = 0.5, delay { mean = 1 s } }]");
        c.Bind<Faults>().Rules.Should().ContainSingle().Which.Should().Be(new LinkRule { From = "a", Drop = 0.5, Delay = new Delay(TimeSpan.FromSeconds(1)) });
    }

    [Fact]
    public void A_duration_without_a_unit_binds_as_milliseconds_and_warns_naming_key_and_position()
    {
        var warnings = new List<string>();
        var c = H.Resolved(Training.Replace("timeout = 90 s", "timeout = 30"));
        c.GetConfig("cofusfl.training").Bind<TrainingOptions>(warnings.Add).Timeout.Should().Be(TimeSpan.FromMilliseconds(30));
        warnings.Should().ContainSingle().Which.Should().StartWith("test.conf:7:13: warning: 'cofusfl.training.timeout' = 30 has no unit")
            .And.Contain("30 ms");
    }

    [Theory]
    [InlineData("timeout = \"45\"", 1)]
    [InlineData("timeout = 1.5", 1)]
    [InlineData("timeout = 0", 0)]
    [InlineData("timeout = 30 s", 0)]
    [InlineData("timeout = 250ms", 0)]
    public void Only_a_non_zero_duration_without_a_unit_warns(string line, int expected)
    {
        var warnings = new List<string>();
        H.Resolved(Training.Replace("timeout = 90 s", line)).GetConfig("cofusfl.training").Bind<TrainingOptions>(warnings.Add);
        warnings.Should().HaveCount(expected);
    }

    [Fact]
    public void A_duration_without_a_unit_in_a_list_element_warns()
    {
        var warnings = new List<string>();
        H.Resolved("rules = [{ delay.mean = 20 }]").Bind<Faults>(warnings.Add);
        warnings.Should().ContainSingle().Which.Should().Contain("'rules.0.delay.mean' = 20");
    }
}
