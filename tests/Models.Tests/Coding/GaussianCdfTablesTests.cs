using CoFUsfl.Models.Coding;

namespace CoFUsfl.Models.Tests.Coding;

public class GaussianCdfTablesTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.5, 0.033894853524689274)]
    [InlineData(3.0, 2.209049699858544e-05)]
    [InlineData(6.0, 2.1519736712498913e-17)]
    [InlineData(-1.0, 1.8427007929497148)]
    public void Erfc_matches_reference_values(double x, double expected)
    {
        GaussianCdfTables.Erfc(x).Should().BeApproximately(expected, Math.Abs(expected) * 1e-13 + 1e-300);
    }

    [Fact]
    public void Quantile_inverts_the_normal_cdf()
    {
        GaussianCdfTables.StandardNormalQuantile(0.025).Should().BeApproximately(-1.959963984540054, 1e-12);
        GaussianCdfTables.StandardNormalQuantile(5e-10).Should().BeApproximately(-6.109410204869, 1e-9);
    }

    [Fact]
    public void Default_scale_table_spans_0_11_to_256_log_spaced()
    {
        var t = GaussianCdfTables.ScaleTable();
        t.Should().HaveCount(64);
        t[0].Should().BeApproximately(0.11f, 1e-6f);
        t[^1].Should().BeApproximately(256f, 1e-3f);
        (t[1] / t[0]).Should().BeApproximately(t[40] / t[39], 1e-4f);
    }

    [Fact]
    public void Table_has_CompressAI_lengths_and_offsets()
    {
        var table = RansTestData.GaussianTable;
        table.Count.Should().Be(64);
        // center = ceil(s · 6.1094…): 0.11 → 1 (5 entries: −1, 0, 1 and escape); 256 → 1565.
        table.GetOffset(0).Should().Be(-1);
        table.GetLength(0).Should().Be(5);
        table.GetOffset(63).Should().Be(-1565);
        table.GetLength(63).Should().Be(2 * 1565 + 3);
        for (var i = 0; i < table.Count; i++) QuantizedCdf.Validate(table.GetCdf(i), $"cdf {i}");
    }

    [Fact]
    public void Indexes_pick_the_first_table_scale_not_below_the_scale()
    {
        var t = RansTestData.ScaleTable;
        GaussianCdfTables.BuildIndexes([0.01f, 0.11f, t[5], t[5] * 1.0001f, 1000f], t).Should().Equal(0, 0, 5, 6, 63);
    }
}
