using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Tests.Imaging;

public class JpegAndConvertTests
{
    private static string Bsds(string name) => Path.Combine(TestPaths.Datasets, "bsds500", "test", name);

    [Fact]
    public void Bsds500_jpeg_decodes_to_plausible_rgb()
    {
        var img = ImageIO.Read(Bsds("100007.jpg"));
        img.Channels.Should().Be(3);
        img.BitDepth.Should().Be(8);
        new[] { (img.Width, img.Height) }.Should().BeSubsetOf(new[] { (481, 321), (321, 481) });
        var mean = img.Data8.Average(b => (double)b);
        mean.Should().BeInRange(20, 235);
        img.Data8.Distinct().Count().Should().BeGreaterThan(100, "a natural photo uses many levels");
    }

    [Fact]
    public void Truncated_jpeg_reports_libjpeg_turbo_message_with_the_file_name()
    {
        var bytes = File.ReadAllBytes(Bsds("100007.jpg"));
        var dir = TestPaths.TempDir();
        try
        {
            var path = Path.Combine(dir, "x.jpg");
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            FluentActions.Invoking(() => ImageIO.Read(path)).Should().Throw<ImageFormatException>()
                .WithMessage("x.jpg: libjpeg-turbo: *Premature end of JPEG file*");
            File.WriteAllBytes(path, bytes[..40]);
            FluentActions.Invoking(() => ImageIO.Read(path)).Should().Throw<ImageFormatException>().WithMessage("x.jpg: *");
            File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0x00, 0x01]);
            FluentActions.Invoking(() => ImageIO.Read(path)).Should().Throw<ImageFormatException>().WithMessage("x.jpg: *");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Rgb8_to_chw_float_and_back_is_exact()
    {
        var rng = new Random(3);
        var data = new byte[5 * 4 * 3];
        rng.NextBytes(data);
        var img = Image.FromData(5, 4, 3, data);
        var chw = ImageConvert.ToChwFloat(img);
        chw.Should().HaveCount(60);
        chw[0].Should().Be(data[0] / 255f);           // R of (0,0)
        chw[20 + 1].Should().Be(data[3 + 1] / 255f);  // G plane, pixel 1
        chw.Should().OnlyContain(v => v >= 0 && v <= 1);
        ImageConvert.FromChwFloat(chw, 4, 5).SameAs(img).Should().BeTrue();
    }

    [Fact]
    public void Gray_is_expanded_and_alpha_dropped()
    {
        var gray = Image.FromData(2, 1, 1, new byte[] { 0, 255 });
        ImageConvert.ToChwFloat(gray).Should().Equal(0f, 1f, 0f, 1f, 0f, 1f);
        var rgba = Image.FromData(1, 1, 4, new byte[] { 51, 102, 153, 7 });
        ImageConvert.ToChwFloat(rgba).Should().Equal(0.2f, 0.4f, 0.6f);
        var g16 = Image.FromData(1, 1, 1, new ushort[] { 65535 });
        ImageConvert.ToChwFloat(g16).Should().Equal(1f, 1f, 1f);
    }

    [Fact]
    public void Float_to_8bit_rounds_and_clamps()
    {
        var img = ImageConvert.FromChwFloat([-0.5f, 0.5f / 255f, 1.5f / 255f, 2f, float.NaN, 0.5f], 1, 2);
        new[] { img[0, 0, 0], img[1, 0, 0], img[0, 0, 1], img[1, 0, 1], img[0, 0, 2], img[1, 0, 2] }
            .Should().Equal(0, 0, 2, 255, 0, 128); // 0.5 → 0 and 1.5 → 2: half to even like torch.round
    }
}
