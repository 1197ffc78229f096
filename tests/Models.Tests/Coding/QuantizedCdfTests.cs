using CoFUsfl.Models.Coding;

namespace CoFUsfl.Models.Tests.Coding;

public class QuantizedCdfTests
{
    private static void AssertInvariants(int[] cdf, int symbols)
    {
        cdf.Should().HaveCount(symbols + 1);
        cdf[0].Should().Be(0);
        cdf[^1].Should().Be(65536);
        for (var i = 0; i + 1 < cdf.Length; i++) cdf[i + 1].Should().BeGreaterThan(cdf[i], $"symbol {i} must have nonzero width");
    }

    [Fact]
    public void Exact_dyadic_pmf_maps_to_exact_cdf()
    {
        QuantizedCdf.FromPmf([0.5f, 0.25f, 0.25f]).Should().Equal(0, 32768, 49152, 65536);
    }

    [Fact]
    public void Zero_probability_symbols_steal_one_count_each_from_the_smallest_donor()
    {
        // Worked by hand through ops.cpp: [0,65536,65536,65536] → steal for symbol 1, then for symbol 2.
        QuantizedCdf.FromPmf([1f, 0f, 0f]).Should().Equal(0, 65534, 65535, 65536);
    }

    [Fact]
    public void Rounding_is_half_away_from_zero_like_std_round()
    {
        // precision 2: 1.5 → 2 and 2.5 → 3 (banker's rounding would give 2, 2 and the CDF [0, 2, 4]).
        QuantizedCdf.FromPmf([0.375f, 0.625f], precision: 2).Should().Equal(0, 1, 4);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_and_heavy_tailed_pmfs_keep_all_invariants(int seed)
    {
        var rng = new Random(seed);
        for (var trial = 0; trial < 50; trial++)
        {
            var n = rng.Next(1, 400);
            var pmf = new float[n];
            for (var i = 0; i < n; i++)
                pmf[i] = rng.Next(4) == 0 ? 0f : (float)Math.Pow(rng.NextDouble(), 8); // many zero and tiny entries
            if (pmf.Sum() == 0) pmf[0] = 1;
            var total = pmf.Sum();
            for (var i = 0; i < n; i++) pmf[i] /= total;
            AssertInvariants(QuantizedCdf.FromPmf(pmf), n);
        }
    }

    [Fact]
    public void Tail_mass_becomes_the_last_escape_symbol()
    {
        var cdf = QuantizedCdf.FromPmfWithTail([0.25f, 0.5f, 0.25f], 1e-9f);
        AssertInvariants(cdf, 4);
        (cdf[^1] - cdf[^2]).Should().Be(1, "a 1e-9 tail still gets the minimum width of one count");
    }

    [Fact]
    public void Bad_pmfs_are_rejected_with_the_reason()
    {
        FluentActions.Invoking(() => QuantizedCdf.FromPmf([0.5f, -0.1f])).Should().Throw<ArgumentException>().WithMessage("*pmf[1]*");
        FluentActions.Invoking(() => QuantizedCdf.FromPmf([0f, 0f])).Should().Throw<ArgumentException>().WithMessage("*all zeros*");
        FluentActions.Invoking(() => QuantizedCdf.FromPmf(new float[70000])).Should().Throw<ArgumentException>().WithMessage("*at most*");
        FluentActions.Invoking(() => QuantizedCdf.Validate([0, 10, 10, 65536], "c")).Should().Throw<ArgumentException>().WithMessage("*zero-width*");
    }
}
