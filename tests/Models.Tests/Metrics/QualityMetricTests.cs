using CoFUsfl.Models.Imaging;
using CoFUsfl.Models.Metrics;

namespace CoFUsfl.Models.Tests.Metrics;

public class QualityMetricTests
{
    private static float[] Textured(int c, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var a = new float[c * h * w];
        for (var k = 0; k < c; k++)
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                    a[(k * h + y) * w + x] = (float)Math.Clamp(0.5 + 0.3 * Math.Sin(x * 0.21 + k) * Math.Cos(y * 0.13) + 0.05 * rng.NextDouble(), 0, 1);
        return a;
    }

    private static float[] AddNoise(float[] a, double sigma, int seed)
    {
        var rng = new Random(seed);
        return a.Select(v => (float)Math.Clamp(v + sigma * (rng.NextDouble() * 2 - 1) * Math.Sqrt(3), 0, 1)).ToArray();
    }

    [Fact]
    public void Psnr_of_a_known_error()
    {
        // Every sample off by 5 → MSE 25 → 10·log10(255²/25) = 34.151…
        var a = Image.FromData(4, 2, 3, Enumerable.Repeat((byte)100, 24).ToArray());
        var b = Image.FromData(4, 2, 3, Enumerable.Repeat((byte)105, 24).ToArray());
        Psnr.Compute(a, b).Should().BeApproximately(10 * Math.Log10(255.0 * 255 / 25), 1e-12);
        Psnr.Compute(a, a).Should().Be(double.PositiveInfinity);
        Psnr.FromMse(1, 1).Should().Be(0);
        MsSsim.ToDb(0.99).Should().BeApproximately(20, 1e-9);
    }

    [Fact]
    public void Rounded_psnr_quantizes_floats_to_8_bits_first()
    {
        float[] a = [0.2f, 0.5f, 0.9f];
        float[] b = [0.2f + 0.1f / 255f, 0.5f, 0.9f]; // 51 vs 51.1: the same byte
        Psnr.ComputeRounded(a, b).Should().Be(double.PositiveInfinity);
        Psnr.ComputeFloat(a, b).Should().BeLessThan(100);
        float[] c = [0.2f + 1f / 255f, 0.5f, 0.9f]; // one level on one of 3 samples → MSE 1/3
        Psnr.ComputeRounded(a, c).Should().BeApproximately(10 * Math.Log10(255.0 * 255 * 3), 1e-9);
    }

    [Fact]
    public void Bpp_is_bits_over_pixels()
    {
        Psnr.Bpp(49152, 768, 512).Should().Be(1.0);
        FluentActions.Invoking(() => Psnr.Bpp(1, 0, 5)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Ms_ssim_of_constant_images_is_the_luminance_term_to_the_last_weight()
    {
        // Constant planes: every σ is 0, so cs = 1 at every scale and SSIM = (2ab + C1)/(a² + b² + C1);
        // 256 is even at all 4 poolings, so no zero padding dilutes the constants.
        const int n = 256;
        var a = Enumerable.Repeat(0.4f, n * n).ToArray();
        var b = Enumerable.Repeat(0.6f, n * n).ToArray();
        var c1 = 0.01 * 0.01;
        double fa = 0.4f, fb = 0.6f;
        var l = (2 * fa * fb + c1) / (fa * fa + fb * fb + c1);
        MsSsim.Compute(a, b, 1, n, n).Should().BeApproximately(Math.Pow(l, 0.1333), 1e-12);
    }

    [Fact]
    public void Ms_ssim_is_one_for_identical_images_and_falls_with_noise()
    {
        const int h = 171, w = 190; // odd sizes exercise the padded pooling
        var a = Textured(3, h, w, 1);
        MsSsim.Compute(a, a, 3, h, w).Should().BeApproximately(1, 1e-12);
        var light = MsSsim.Compute(a, AddNoise(a, 0.02, 2), 3, h, w);
        var heavy = MsSsim.Compute(a, AddNoise(a, 0.1, 3), 3, h, w);
        light.Should().BeInRange(0.9, 1.0);
        heavy.Should().BeLessThan(light).And.BeGreaterThan(0);
        MsSsim.Compute(AddNoise(a, 0.1, 3), a, 3, h, w).Should().BeApproximately(heavy, 1e-12, "MS-SSIM is symmetric");
    }

    [Fact]
    public void Ms_ssim_on_8bit_images_uses_data_range_255()
    {
        const int h = 170, w = 176;
        var f = Textured(3, h, w, 4);
        var g = AddNoise(f, 0.05, 5);
        var fi = ImageConvert.FromChwFloat(f, h, w);
        var gi = ImageConvert.FromChwFloat(g, h, w);
        var viaImages = MsSsim.Compute(fi, gi);
        var f8 = ImageConvert.ToChwFloat(fi);
        var g8 = ImageConvert.ToChwFloat(gi);
        viaImages.Should().BeApproximately(MsSsim.Compute(f8, g8, 3, h, w, 1.0), 1e-6, "scaling data and range by 255 changes nothing");
    }

    [Fact]
    public void Ms_ssim_rejects_images_too_small_for_four_downsamplings()
    {
        var a = new float[160 * 200];
        FluentActions.Invoking(() => MsSsim.Compute(a, a, 1, 160, 200)).Should().Throw<ArgumentException>().WithMessage("*161*");
    }
}
