using CoFUsfl.Models.Codecs;
using CoFUsfl.Models.Data;
using CoFUsfl.Models.Evaluation;
using CoFUsfl.Torch;
using CoFUsfl.Torch.Optim;
using Xunit.Abstractions;

namespace CoFUsfl.Models.Tests.EndToEnd;

/// <summary>
/// The whole codec pipeline end to end: real training crops (BSDS500), CompressAI's rate–distortion loss with a separate
/// aux optimizer, then real rANS bitstreams on Kodak. Small enough for a CPU test (seconds), large enough to learn.
/// </summary>
public class BriefTrainingSpecs(ITestOutputHelper output)
{
    private const ulong Seed = 2024;
    private const int Steps = 60;
    private const int Batch = 2;
    private const int Crop = 64;
    private const double Lambda = 0.0018; // low: rate dominates, so the entropy model must learn (untrained: ≈0.26 bpp)
    private const double Lr = 5e-3;       // high enough for 60 steps to move the synthesis biases off black

    [Fact]
    public void A_small_model_trained_briefly_beats_its_untrained_self_on_Kodak()
    {
        var kodak = new CodecEvaluator(TestPaths.Kodak);
        using var g = new Generator(Seed);
        // The factorized prior, not the hyperprior: an untrained hyperprior sits at the bitstream's floor (all-zero latents,
        // ≈0.012 bpp of headers and side information), which no training can go below; an untrained factorized prior is
        // broad (≈0.26 bpp), so "bpp down" measures what training taught the entropy model.
        using var model = new Bmshj2018Factorized(8, 12, g);
        model.eval();
        model.update();
        var untrained = kodak.Evaluate(model, limit: 2);

        Train(model, g);
        var trained = kodak.Evaluate(model, limit: 2);

        output.WriteLine($"untrained: {untrained.Psnr:F3} dB @ {untrained.Bpp:F5} bpp; trained ({Steps} steps, λ={Lambda}): {trained.Psnr:F3} dB @ {trained.Bpp:F5} bpp");
        trained.Images.Should().HaveCount(2);
        // Measured (seed 2024): 8.49 dB @ 0.257 bpp untrained, 15.2 dB @ 0.115 bpp trained; other seeds alike.
        trained.Psnr.Should().BeGreaterThan(untrained.Psnr + 3.0, "a few dozen steps of the rate–distortion loss must improve the reconstruction");
        trained.Bpp.Should().BeLessThan(0.8 * untrained.Bpp, "the untrained factorized prior is broad; training must make it code the latents in fewer bits");
    }

    /// <summary>CompressAI's recipe: L = λ·255²·MSE + bpp (likelihoods), Adam on the main parameters, Adam on the quantiles (aux loss).</summary>
    private static void Train(CompressionModel model, Generator g)
    {
        var data = new ImageFolderDataset([Path.Combine(TestPaths.Datasets, "bsds500", "train")], maxCacheBytes: 256L << 20);
        var sampler = new RandomCropSampler(data, new CropOptions(Crop, Crop));
        var rng = new Random((int)Seed);
        model.NoiseGenerator = g;
        model.train();
        using var opt = new Adam(model.main_parameters(), Lr);
        using var aux = new Adam(model.aux_parameters(), 1e-3);
        for (var step = 0; step < Steps; step++)
        {
            using var scope = DisposeScope.Open();
            var batch = sampler.NextBatch(Batch, rng);
            var x = torch.from_array(batch.Data, Batch, 3, Crop, Crop);
            var r = model.forward(x);
            var bits = r.Likelihoods.Values.Select(l => l.log2().sum().neg()).Aggregate((a, b) => a + b);
            var loss = F.mse_loss(r.XHat, x) * (Lambda * 255 * 255) + bits / ((double)Batch * Crop * Crop);
            opt.zero_grad();
            loss.backward();
            GradClip.clip_grad_norm_(model.main_parameters(), 1.0);
            opt.step();
            aux.zero_grad();
            model.aux_loss().backward();
            aux.step();
        }
        model.NoiseGenerator = null;
        model.eval();
        model.update();
    }
}
