using System.Xml.Linq;
using CoFUsfl.Models.Metrics;

namespace CoFUsfl.Models.Tests.Metrics;

public class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument Parse(string svg) => XDocument.Parse(svg);

    private static IEnumerable<XElement> ByClass(XDocument d, string cls) =>
        d.Descendants().Where(e => (string?)e.Attribute("class") == cls);

    [Fact]
    public void Rd_plot_has_one_line_per_curve_a_legend_ticks_and_labels()
    {
        var anchor = RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, "bpg_444_x265_ycbcr.json"));
        var ref2 = RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, "compressai-bmshj2018-hyperprior_mse_cuda.json"));
        var ours = new RdCurve("ours <split>", [0.5, 0.2, 0.9], [31, 29, 34]); // unsorted and needs escaping
        var doc = Parse(RdPlot.Create([anchor, ref2, ours], "Kodak & co").ToSvg());

        doc.Root!.Name.Should().Be(Svg + "svg");
        doc.Root.Element(Svg + "title")!.Value.Should().Be("Kodak & co");
        var series = ByClass(doc, "series").ToList();
        series.Select(s => (string)s.Attribute("data-name")!).Should().Equal(anchor.Name, ref2.Name, "ours <split>");
        series.Should().OnlyContain(s => s.Elements(Svg + "polyline").Count() == 1);
        series[1].Descendants().Count(e => e.Name != Svg + "polyline").Should().Be(8, "one marker per point");

        // The unsorted curve is drawn in rate order: x coordinates increase along the polyline.
        var xs = ((string)series[2].Element(Svg + "polyline")!.Attribute("points")!).Split(' ').Select(p => double.Parse(p.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        xs.Should().BeInAscendingOrder();

        ByClass(doc, "legend").Single().Elements(Svg + "text").Select(t => t.Value).Should().Equal(anchor.Name, ref2.Name, "ours <split>");
        ByClass(doc, "x-label").Single().Value.Should().Be("Bit-rate (bpp)");
        ByClass(doc, "y-label").Single().Value.Should().Be("PSNR (dB)");
        ByClass(doc, "x-ticks").Single().Elements(Svg + "text").Count().Should().BeInRange(4, 12);
        var yTicks = ByClass(doc, "y-ticks").Single().Elements(Svg + "text").Select(t => double.Parse(t.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        yTicks.Should().BeInAscendingOrder();
        yTicks.First().Should().BeLessThanOrEqualTo(anchor.Psnr!.Min());
        yTicks.Last().Should().BeGreaterThanOrEqualTo(anchor.Psnr!.Max());
    }

    [Fact]
    public void Generic_chart_skips_non_finite_points_and_honours_fixed_limits()
    {
        var chart = new SvgLineChart("PSNR per round", "round", "PSNR (dB)") { YMin = 20, YMax = 40 };
        chart.AddSeries("client 1", [1, 2, 3, 4], [25, double.NaN, 30, 31], dashed: true);
        chart.AddSeries("client 2", [1, 2, 3, 4], [24, 26, 28, 29], color: "black", marker: MarkerShape.None);
        var doc = Parse(chart.ToSvg());
        var series = ByClass(doc, "series").ToList();
        series[0].Elements().Count(e => e.Name != Svg + "polyline").Should().Be(3, "the NaN point has no marker");
        series[0].Element(Svg + "polyline")!.Attribute("stroke-dasharray").Should().NotBeNull();
        series[1].Elements().Should().ContainSingle("no markers, only the line");
        var yTicks = ByClass(doc, "y-ticks").Single().Elements(Svg + "text").Select(t => t.Value).ToList();
        yTicks.First().Should().Be("20");
        yTicks.Last().Should().Be("40");
    }

    [Fact]
    public void Empty_chart_is_still_valid_svg_and_mismatched_series_are_rejected()
    {
        var chart = new SvgLineChart("empty", "x", "y");
        Parse(chart.ToSvg()).Root!.Name.Should().Be(Svg + "svg");
        FluentActions.Invoking(() => chart.AddSeries("bad", [1, 2], [1])).Should().Throw<ArgumentException>().WithMessage("*bad*");
    }

    [Fact]
    public void Ms_ssim_db_plot_uses_db_values_and_save_writes_a_file()
    {
        var elic = RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, "paper-elic2022_ms-ssim.json"));
        var hyper = RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, "compressai-bmshj2018-hyperprior_mse_cuda.json"));
        var dir = TestPaths.TempDir();
        try
        {
            var path = Path.Combine(dir, "rd.svg");
            RdPlot.Save(path, [elic, hyper], "MS-SSIM", RdMetric.MsSsimDb);
            var doc = XDocument.Load(path);
            ByClass(doc, "series").Should().HaveCount(2);
            ByClass(doc, "y-label").Single().Value.Should().Be("MS-SSIM (dB)");
            // PSNR plots leave out curves without PSNR.
            ByClass(Parse(RdPlot.Create([elic, hyper]).ToSvg()), "series").Should().ContainSingle();
        }
        finally { Directory.Delete(dir, true); }
    }
}
