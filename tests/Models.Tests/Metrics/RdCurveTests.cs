using CoFUsfl.Models.Metrics;

namespace CoFUsfl.Models.Tests.Metrics;

public class RdCurveTests
{
    [Fact]
    public void Loads_CompressAI_reference_results()
    {
        var c = RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, "compressai-bmshj2018-hyperprior_mse_cuda.json"));
        c.Name.Should().Be("bmshj2018-hyperprior");
        c.Bpp.Should().HaveCount(8);
        c.Psnr!.Should().HaveCount(8);
        c.MsSsim!.Should().HaveCount(8);
        c.Bpp[0].Should().BeApproximately(0.13129340277777776, 1e-15);
        c.Psnr![^1].Should().BeApproximately(40.556865931529494, 1e-12);
    }

    [Fact]
    public void Every_reference_file_loads()
    {
        foreach (var f in Directory.EnumerateFiles(TestPaths.ReferenceRd, "*.json"))
        {
            var c = RdCurve.Load(f);
            c.Bpp.Should().NotBeEmpty(f);
            (c.Psnr ?? c.MsSsim ?? c.MsSsimDb)!.Length.Should().Be(c.Bpp.Length, f);
        }
    }

    [Fact]
    public void Ms_ssim_db_only_curves_load_without_psnr()
    {
        var c = RdCurve.Load(Path.Combine(TestPaths.ReferenceRd, "paper-elic2022_ms-ssim.json"));
        c.Psnr.Should().BeNull();
        c.MsSsimDb.Should().NotBeNull().And.HaveCount(c.Bpp.Length);
        FluentActions.Invoking(() => c.RequirePsnr()).Should().Throw<InvalidOperationException>().WithMessage("*no PSNR*");
    }

    [Fact]
    public void Save_then_Load_round_trips_and_bad_files_name_the_problem()
    {
        var dir = TestPaths.TempDir();
        try
        {
            var c = new RdCurve("ours", [0.1, 0.2], [30, 32], [0.95, 0.97], "eval");
            var path = Path.Combine(dir, "ours.json");
            c.Save(path);
            var back = RdCurve.Load(path);
            back.Name.Should().Be("ours");
            back.Bpp.Should().Equal(0.1, 0.2);
            back.Psnr.Should().Equal(30, 32);
            back.MsSsim.Should().Equal(0.95, 0.97);

            File.WriteAllText(path, """{"name":"x","results":{"bpp":[1,2],"psnr-rgb":[30]}}""");
            FluentActions.Invoking(() => RdCurve.Load(path)).Should().Throw<InvalidDataException>().WithMessage("ours.json: 2 bpp values but 1 PSNR*");
            File.WriteAllText(path, """{"name":"x","results":{"bpp":[1]}}""");
            FluentActions.Invoking(() => RdCurve.Load(path)).Should().Throw<InvalidDataException>().WithMessage("ours.json: results has none*");
            File.WriteAllText(path, """{"name":"x"}""");
            FluentActions.Invoking(() => RdCurve.Load(path)).Should().Throw<InvalidDataException>().WithMessage("ours.json: no \"results\"*");
        }
        finally { Directory.Delete(dir, true); }
    }
}
