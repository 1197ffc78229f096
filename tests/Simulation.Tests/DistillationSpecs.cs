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
