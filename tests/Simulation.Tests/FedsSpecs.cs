using CoFUsfl.Models.Codecs;
using CoFUsfl.Simulation.Split;
using CoFUsfl.Simulation.Training;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>FEDS: stages, channel weights from the teacher's rates, adapters, and the teachers it refuses.</summary>
public class FedsSpecs
{
    private static CodecTrainingOptions Options(FedsOptions feds, int steps = 6) => new()
    {
        Steps = steps, Lr = 1e-3, LogEvery = 1, CheckpointEvery = 0, DistillWeight = 0, Feds = feds,
        Out = Path.Combine(Path.GetTempPath(), "cofusfl-feds-" + Guid.NewGuid().ToString("N")[..8]),
    };

    [Fact]
    public void Stages_follow_the_step_counts()
    {
        var f = new FedsOptions { FeatureSteps = 2, ChannelSteps = 3 };
        Enumerable.Range(1, 7).Select(f.StageAt).Should().Equal(1, 1, 2, 2, 2, 3, 3);
        f.Enabled.Should().BeTrue();
        new FedsOptions().Enabled.Should().BeFalse();
    }

    [Fact]
    public void Channel_weights_are_each_channels_share_of_the_teachers_bits()
    {
        using var scope = torch.NewDisposeScope();
        // Channel 0: likelihood 1/2 everywhere (1 bit a symbol), channel 1: 1/4 (2 bits), channel 2: 1 (0 bits).
        var lik = torch.from_array(new[] { 0.5f, 0.5f, 0.25f, 0.25f, 1f, 1f }, 1, 3, 1, 2);
        FedsAdapters.ChannelWeights(lik).data<float>().Should().BeEquivalentTo(new[] { 1f / 3, 2f / 3, 0f }, o => o.WithStrictOrdering()
            .Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }

    [Fact]
    public void Training_switches_from_feature_alignment_to_channel_distillation_to_fine_tuning()
    {
        var o = SimulationSpecs.Small() with { Seed = 9 };
        o = o with { Data = o.Data with { BatchSize = 2 } };
        using var g = new Generator(3);
        using var teacher = CodecZoo.Create("feds-teacher", 16, 24, g);
        teacher.eval();
        var logs = new List<CodecTrainer.StepLog>();
        using var student = CodecTrainer.Train(o, Options(new FedsOptions { FeatureSteps = 2, ChannelSteps = 2 }), new SyntheticImages(), logs.Add, teacher: teacher);
        logs.Select(l => l.Stage).Should().Equal(1, 1, 2, 2, 3, 3);
        logs.Take(2).Should().OnlyContain(l => l.FeatureLoss > 0 && l.ChannelLoss == null);
        logs.Skip(2).Take(2).Should().OnlyContain(l => l.ChannelLoss > 0 && l.FeatureLoss == null);
        logs.Skip(4).Should().OnlyContain(l => l.FeatureLoss == null && l.ChannelLoss == null);
        CodecTrainer.ToJson(logs[0])["feature_loss"]!.GetValue<double>().Should().Be(logs[0].FeatureLoss!.Value);
        student.Name.Should().Be("bmshj2018-hyperprior", "the adapters are not part of the student");
        student.state_dict().Keys.Should().NotContain(k => k.Contains("adapter") || k.StartsWith("latent", StringComparison.Ordinal));
    }

    [Fact]
    public void The_distillation_terms_take_part_in_the_gradient()
    {
        var o = SimulationSpecs.Small() with { Seed = 9 };
        using var g = new Generator(3);
        using var teacher = CodecZoo.Create("feds-teacher", 16, 24, g);
        string Train(FedsOptions f)
        {
            using var s = CodecTrainer.Train(o, Options(f, steps: 3), new SyntheticImages(), teacher: teacher);
            return string.Join(",", s.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.sum().item().ToString("R")));
        }
        var plain = Train(new FedsOptions { FeatureSteps = 3, FeatureWeight = 0 });
        Train(new FedsOptions { FeatureSteps = 3, FeatureWeight = 1 }).Should().NotBe(plain, "feature alignment moves the student");
        Train(new FedsOptions { ChannelSteps = 3, ChannelWeight = 1 }).Should().NotBe(plain, "channel distillation moves the student");
        Train(new FedsOptions { FeatureSteps = 3, FeatureWeight = 0 }).Should().Be(plain, "same seed, same student");
    }

    [Fact]
    public void Incompatible_teachers_missing_teachers_and_bad_stage_counts_are_refused_naming_the_key()
    {
        var o = SimulationSpecs.Small();
        using var factorized = CodecZoo.Create("bmshj2018-factorized", 8, 12);
        FluentActions.Invoking(() => CodecTrainer.Train(o, Options(new FedsOptions { FeatureSteps = 1 }), new SyntheticImages(), teacher: factorized))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.codec-training.teacher: bmshj2018-factorized (down-sampling 16) cannot teach bmshj2018-hyperprior (down-sampling 64)*");
        FluentActions.Invoking(() => CodecTrainer.Train(o, Options(new FedsOptions { FeatureSteps = 1 }), new SyntheticImages()))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.codec-training.feds*needs a teacher*");
        FluentActions.Invoking(() => CodecTrainer.Train(o, Options(new FedsOptions { FeatureSteps = 4, ChannelSteps = 4 }), new SyntheticImages()))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.codec-training.feds: feature-steps = 4 and channel-steps = 4*at most steps = 6*");
        FluentActions.Invoking(() => CodecTrainer.Train(o, Options(new FedsOptions { FeatureSteps = 1, ChannelWeight = double.NaN }), new SyntheticImages()))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.codec-training.feds.channel-weight = NaN*");
        FluentActions.Invoking(() => new SplitPlan("feds-teacher", 16, 24, 2, 5).Validate())
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.model.name = \"feds-teacher\": a codec for cofusfl codec train*");
    }
}

/// <summary>Teacher→student distillation inside U-SFL: the client, who holds the image and the loss, holds the teacher.</summary>
public class SplitDistillationSpecs
{
    private static string Teacher()
    {
        var path = Path.Combine(Path.GetTempPath(), "cofusfl-usfl-teacher-" + Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        using var g = new Generator(77);
        using var teacher = CodecZoo.Create("feds-teacher", 16, 24, g);
        teacher.eval();
        teacher.update();
        CodecTrainer.Save(teacher, path);
        return path;
    }

    private static string Hash(Runner.RunOutcome r) => r.Summary["final_model_hash"]!.GetValue<string>();

    [Fact]
    public void The_teacher_enters_only_through_the_clients_distortion_term_and_its_compute_is_charged()
    {
        var teacher = Teacher();
        var o = SimulationSpecs.Small(features: "float32", rounds: 1, clients: 2);
        var plain = SimulationSpecs.Run(o);
        var distilled = SimulationSpecs.Run(o with { Training = o.Training with { Teacher = teacher, DistillWeight = 0.5 } });
        var zero = SimulationSpecs.Run(o with { Training = o.Training with { Teacher = teacher, DistillWeight = 0 } });
        Hash(distilled).Should().NotBe(Hash(plain), "half of the distortion term is the teacher's reconstruction");
        Hash(zero).Should().Be(Hash(plain), "with weight 0 the teacher changes no parameter");
        zero.Summary["simulated_time_s"]!.GetValue<double>().Should().BeGreaterThan(plain.Summary["simulated_time_s"]!.GetValue<double>(),
            "the client runs the teacher's forward pass");
        Hash(SimulationSpecs.Run(o with { Training = o.Training with { Teacher = teacher, DistillWeight = 0.5 } })).Should().Be(Hash(distilled), "same seed, same run");
    }

    [Fact]
    public void A_missing_or_broken_teacher_and_an_out_of_range_weight_are_refused_naming_the_key()
    {
        var o = SimulationSpecs.Small(features: "float32", rounds: 1, clients: 2);
        FluentActions.Invoking(() => SimulationSpecs.Run(o with { Training = o.Training with { Teacher = "/nonexistent/t.safetensors" } }))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.training.teacher = \"/nonexistent/t.safetensors\": no such file*");
        var broken = Path.Combine(Path.GetTempPath(), "cofusfl-broken-" + Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        File.WriteAllBytes(broken, [1, 2, 3]);
        FluentActions.Invoking(() => SimulationSpecs.Run(o with { Training = o.Training with { Teacher = broken } }))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.training.teacher: *");
        FluentActions.Invoking(() => Runner.SimulationRunner.Validate(o with { Training = o.Training with { DistillWeight = 1.5 } }))
            .Should().Throw<ArgumentException>().WithMessage("cofusfl.training.distill-weight = 1.5: between 0 and 1");
    }
}

public class DistillationReportSpecs
{
    private static string Run(string root, string name, string model, long parameters, double psnrOffset, double rateScale)
    {
        var dir = Path.Combine(root, name);
        double[] lambdas = [0.0067, 0.013, 0.025, 0.0483];
        for (var i = 0; i < 4; i++)
        {
            var sub = Path.Combine(dir, FormattableString.Invariant($"lambda-{lambdas[i]}"));
            Directory.CreateDirectory(sub);
            File.WriteAllText(Path.Combine(sub, "kodak.json"), FormattableString.Invariant(
                $"{{\"images\":24,\"psnr\":{26 + 2 * i + psnrOffset},\"ms_ssim\":0.9,\"bpp\":{(0.2 + 0.2 * i) * rateScale},\"encode_ms\":100,\"decode_ms\":{300 + i}}}"));
            File.WriteAllText(Path.Combine(sub, "codec.json"), $"{{\"model\":\"{model}\",\"parameters\":{parameters}}}");
            File.WriteAllText(Path.Combine(sub, "train.jsonl"), "{\"step\":1}\n");
        }
        return dir;
    }

    [Fact]
    public void The_report_gives_parameters_BD_rates_against_teacher_and_student_and_regenerates_from_its_archive()
    {
        var root = Path.Combine(Path.GetTempPath(), "cofusfl-distill-report-" + Guid.NewGuid().ToString("N")[..8]);
        var teacher = Run(root, "teacher", "feds-teacher", 1000, 0, 1.0);
        var student = Run(root, "student", "bmshj2018-hyperprior", 400, -1, 1.0);
        var feds = Run(root, "feds", "bmshj2018-hyperprior", 400, -1, 0.9);
        var doc = Path.Combine(root, "docs", "results-feds.md");
        Directory.CreateDirectory(Path.GetDirectoryName(doc)!);
        (string, long) NoCheckpoint(string path) => throw new InvalidOperationException("archived folders carry codec.json");
        var text = Metrics.DistillationReport.Write([teacher, student, feds], doc, "FEDS", NoCheckpoint);
        var expected = CoFUsfl.Models.Metrics.Bjontegaard.BdRate([0.2, 0.4, 0.6, 0.8], [26.0, 28, 30, 32], [0.18, 0.36, 0.54, 0.72], [25.0, 27, 29, 31]);
        text.Should().Contain("| feds | bmshj2018-hyperprior | 400 | 60.0 % fewer parameters |");
        text.Should().Contain($"| {expected.ToString("+0.00;−0.00", System.Globalization.CultureInfo.InvariantCulture)} % |", "BD-rate of feds against the teacher");
        text.Should().Contain("| −10.00 % |", "10 % fewer bits at every PSNR than the student");
        text.Should().Contain("| student | 0.0483 | 0.800 | 31.00 |");
        var archive = Path.Combine(root, "docs", "results-feds-plots", "runs");
        File.Exists(Path.Combine(archive, "feds", "lambda-0.025", "codec.json")).Should().BeTrue();
        var again = Metrics.DistillationReport.Write([Path.Combine(archive, "teacher"), Path.Combine(archive, "student"), Path.Combine(archive, "feds")], doc, "FEDS", NoCheckpoint);
        again.Split('\n').Where(l => l.StartsWith('|')).Should().Equal(text.Split('\n').Where(l => l.StartsWith('|')));
        File.WriteAllText(Path.Combine(feds, "lambda-0.013", "kodak.json"), "{\"psnr\": 1}");
        FluentActions.Invoking(() => Metrics.DistillationReport.Write([teacher, feds], doc, "FEDS", NoCheckpoint))
            .Should().Throw<InvalidDataException>().WithMessage("*lambda-0.013*kodak.json: not a codec eval result*");
        Directory.Delete(root, true);
    }
}
