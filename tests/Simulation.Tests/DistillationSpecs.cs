using CoFUsfl.Models.Codecs;
using CoFUsfl.Simulation.Configuration;
using CoFUsfl.Simulation.Training;
using CoFUsfl.Torch;

namespace CoFUsfl.Simulation.Tests;

/// <summary>Teacher→student distillation of codecs (<see cref="CodecTrainer.Train"/> with a teacher).</summary>
public class DistillationSpecs
{
    private static SimulationOptions Options => SimulationSpecs.Small() with { Seed = 11 };

    private static CodecTrainingOptions Steps(int n, double alpha) => new()
    {
        Steps = n, Lr = 3e-3, LogEvery = 1, CheckpointEvery = 0, DistillWeight = alpha,
        Out = Path.Combine(Path.GetTempPath(), "cofusfl-distill-" + Guid.NewGuid().ToString("N")[..8]),
    };

    /// <summary>MSE between two codecs' reconstructions of the same synthetic batch, in eval mode.</summary>
    private static double Distance(CompressionModel a, CompressionModel b)
    {
        using var scope = DisposeScope.Open();
        var x = new SyntheticImages().Batch([1, 5, 9, 13], 64, new Random(3));
        using var _ = torch.no_grad();
        return F.mse_loss(a.forward(x).XHat, b.forward(x).XHat).item();
    }

    [Fact]
    public void A_student_distilled_with_weight_1_imitates_its_teacher_rather_than_the_images()
    {
        // An untrained teacher from another seed reconstructs far from the images: imitating it and fitting the images
        // pull apart, so the test can tell which one the student did.
        using var teacher = CodecZoo.Create("bmshj2018-hyperprior", 8, 12, new Generator(99));
        teacher.update();
        var images = new SyntheticImages();
        using var distilled = CodecTrainer.Train(Options, Steps(40, 1.0), images, teacher: teacher);
        using var plain = CodecTrainer.Train(Options, Steps(40, 1.0), images);
        Distance(distilled, teacher).Should().BeLessThan(0.5 * Distance(plain, teacher));
    }

    [Fact]
    public void The_loss_weighs_the_image_and_teacher_terms_by_the_distill_weight()
    {
        using var teacher = CodecZoo.Create("bmshj2018-hyperprior", 8, 12, new Generator(99));
        teacher.update();
        var logs = new List<CodecTrainer.StepLog>();
        var o = Options;
        using var _ = CodecTrainer.Train(o, Steps(3, 0.25), new SyntheticImages(), logs.Add, teacher: teacher);
        logs.Should().HaveCount(3);
        foreach (var s in logs)
        {
            var expected = o.Loss.Lambda * 255 * 255 * (0.75 * s.Mse + 0.25 * s.TeacherMse!.Value) + s.Bpp;
            s.Loss.Should().BeApproximately(expected, 1e-4 * Math.Abs(expected));
        }
    }
}

/// <summary>Joint compression + classification: a head on ŷ learns each image's domain together with the codec.</summary>
public class LatentClassifierSpecs
{
    /// <summary>Two domains anyone can tell apart from the latent: dark smooth images and bright striped ones.</summary>
    [Fact]
    public void A_classifier_on_the_latent_learns_the_domains_and_is_measured_on_held_out_images()
    {
        var o = SimulationSpecs.Small() with { Seed = 5 };
        o = o with { Data = o.Data with { BatchSize = 8 } };
        var t = new CodecTrainingOptions
        {
            Steps = 80, Lr = 3e-3, LogEvery = 10, CheckpointEvery = 0, Classification = new() { Weight = 1 },
            Out = Path.Combine(Path.GetTempPath(), "cofusfl-classify-" + Guid.NewGuid().ToString("N")[..8]),
        };
        var logs = new List<CodecTrainer.StepLog>();
        ClassifierResult? result = null;
        using var model = CodecTrainer.Train(o, t, new TwoLooks(), logs.Add, classified: c => result = c);
        result.Should().NotBeNull();
        using var head = result!.Head;
        result.ValImageIndexes.Should().Equal([7, 15, 23, 31], "every 8th image of each domain is held out");
        result.ValAccuracy.Should().Be(1.0);
        logs[^1].CrossEntropy!.Value.Should().BeLessThan(logs[0].CrossEntropy!.Value);
        logs.Should().OnlyContain(l => l.Accuracy != null);
    }

    [Theory]
    [InlineData(1.5, 0, "distill-weight = 1.5")]
    [InlineData(0.5, -1, "classification.weight = -1")]
    public void Out_of_range_weights_are_refused_by_the_trainer_itself(double distill, double classify, string named)
    {
        var t = new CodecTrainingOptions { Steps = 1, DistillWeight = distill, Classification = new() { Weight = classify }, Out = Path.GetTempPath() };
        var act = () => CodecTrainer.Train(SimulationSpecs.Small(), t, new SingleDomain());
        act.Should().Throw<ArgumentException>().WithMessage($"*{named}*");
    }

    [Fact]
    public void Classification_needs_two_domains()
    {
        var t = new CodecTrainingOptions { Steps = 1, Classification = new() { Weight = 1 }, Out = Path.GetTempPath() };
        var act = () => CodecTrainer.Train(SimulationSpecs.Small(), t, new SingleDomain());
        act.Should().Throw<ArgumentException>().WithMessage("*needs at least 2 folders*");
    }

    private sealed class SingleDomain : CoFUsfl.Simulation.Data.ITrainingImages
    {
        public int Count => 4;
        public IReadOnlyList<int[]> Domains => [[0, 1, 2, 3]];
        public Tensor Batch(IReadOnlyList<int> images, int crop, Random rng) => torch.zeros([images.Count, 3, crop, crop]);
    }
}
