using CoFUsfl.Models.Metrics;

namespace CoFUsfl.Models.Tests.Metrics;

public class BjontegaardTests
{
    private static RdCurve Ref(string file) => RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, file));

    [Theory]
    [InlineData("compressai-bmshj2018-hyperprior_mse_cuda.json", 3.70)]
    [InlineData("paper-bmshj2018-hyperprior.json", 6.40)]
    [InlineData("compressai-mbt2018_mse_cuda.json", -11.53)]
    [InlineData("vtm.json", -18.07)]
    [InlineData("jpeg.json", 144.51)]
    public void Bd_rate_against_BPG_matches_the_reference_figures(string file, double expectedPercent)
    {
        var anchor = Ref("bpg_444_x265_ycbcr.json");
        Bjontegaard.BdRate(anchor, Ref(file)).Should().BeApproximately(expectedPercent, 0.05);
    }

    [Fact]
    public void Identical_curves_have_zero_deltas()
    {
        var c = Ref("vtm.json");
        Bjontegaard.BdRate(c, c).Should().BeApproximately(0, 1e-9);
        Bjontegaard.BdPsnr(c, c).Should().BeApproximately(0, 1e-9);
    }

    [Fact]
    public void Halving_every_rate_gives_minus_50_percent_and_a_PSNR_gain()
    {
        double[] rate = [0.1, 0.2, 0.4, 0.8, 1.6];
        double[] psnr = [28, 30.5, 33, 35.2, 37];
        var half = rate.Select(r => r / 2).ToArray();
        Bjontegaard.BdRate(rate, psnr, half, psnr).Should().BeApproximately(-50, 1e-6);
        Bjontegaard.BdPsnr(rate, psnr, half, psnr).Should().BeGreaterThan(0.5);
        // A constant 1 dB gain at every rate is exactly +1 dB BD-PSNR.
        Bjontegaard.BdPsnr(rate, psnr, rate, psnr.Select(p => p + 1).ToArray()).Should().BeApproximately(1, 1e-9);
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        FluentActions.Invoking(() => Bjontegaard.BdRate([1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]))
            .Should().Throw<ArgumentException>().WithMessage("*at least 4*");
        FluentActions.Invoking(() => Bjontegaard.BdRate([1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [10, 11, 12, 13]))
            .Should().Throw<ArgumentException>().WithMessage("*do not overlap*");
        FluentActions.Invoking(() => Bjontegaard.BdRate([1, 0, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]))
            .Should().Throw<ArgumentException>().WithMessage("*rate[1]*");
    }
}
