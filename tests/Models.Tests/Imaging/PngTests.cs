using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Tests.Imaging;

public class PngTests
{
    private static Image RandomImage(int w, int h, int channels, int depth, int seed)
    {
        var rng = new Random(seed);
        var img = new Image(w, h, channels, depth);
        // Smooth gradients plus noise, so that the filters actually predict something.
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                for (var c = 0; c < channels; c++)
                    img[x, y, c] = Math.Clamp((x * 7 + y * 3 + c * 50) % img.MaxValue + rng.Next(-3, 4), 0, img.MaxValue);
        return img;
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 8)]
    [InlineData(4, 8)]
    [InlineData(1, 16)]
    [InlineData(2, 16)]
    [InlineData(3, 16)]
    [InlineData(4, 16)]
    public void Encoder_output_decodes_bit_exactly_with_every_filter(int channels, int depth)
    {
        var img = RandomImage(37, 23, channels, depth, seed: channels * depth);
        foreach (var filter in Enum.GetValues<PngFilter>())
        {
            var decoded = PngDecoder.Decode(PngEncoder.Encode(img, filter), $"{filter}.png");
            decoded.SameAs(img).Should().BeTrue($"{channels} ch {depth}-bit with filter {filter}");
        }
    }

    [Fact]
    public void Kodak_decodes_to_the_pixels_an_independent_decoder_sees()
    {
        // Reference values from a separate plain Python zlib + unfilter decoder.
        var img = ImageIO.Read(Path.Combine(TestPaths.Kodak, "kodim01.png"));
        (img.Width, img.Height, img.Channels, img.BitDepth).Should().Be((768, 512, 3, 8));
        img.Data8.Sum(b => (long)b).Should().Be(124607835);
        (img[100, 200, 0], img[100, 200, 1], img[100, 200, 2]).Should().Be((149, 153, 127));
        (img[384, 256, 0], img[384, 256, 1], img[384, 256, 2]).Should().Be((141, 144, 115));
        var k23 = ImageIO.Read(Path.Combine(TestPaths.Kodak, "kodim23.png"));
        k23.Data8.Sum(b => (long)b).Should().Be(120737792);
        (k23[767, 0, 0], k23[767, 0, 1], k23[767, 0, 2]).Should().Be((47, 41, 31));
    }

    [Fact]
    public void WritePng_then_Read_round_trips_a_file()
    {
        var dir = TestPaths.TempDir();
        try
        {
            var img = RandomImage(64, 48, 3, 8, seed: 5);
            var path = Path.Combine(dir, "sub", "x.png");
            ImageIO.WritePng(path, img);
            ImageIO.Read(path).SameAs(img).Should().BeTrue();
        }
        finally { Directory.Delete(dir, true); }
    }

    public static TheoryData<int, bool> GrayDepths() => new() { { 1, false }, { 2, false }, { 4, false }, { 8, false }, { 16, false }, { 1, true }, { 2, true }, { 4, true }, { 8, true }, { 16, true } };

    [Theory]
    [MemberData(nameof(GrayDepths))]
    public void Gray_at_every_depth_and_interlacing(int depth, bool interlaced)
    {
        var max = (1 << depth) - 1;
        int Sample(int x, int y) => (x * 5 + y * 3 + x * y) % (max + 1);
        var png = PngBuilder.Build(13, 11, depth, 0, interlaced, (x, y) => [Sample(x, y)], idatChunks: 3);
        var img = PngDecoder.Decode(png, "gray.png");
        (img.Width, img.Height, img.Channels).Should().Be((13, 11, 1));
        img.BitDepth.Should().Be(depth == 16 ? 16 : 8);
        var scale = depth == 16 ? 1 : 255 / max;
        for (var y = 0; y < 11; y++)
            for (var x = 0; x < 13; x++)
                img[x, y, 0].Should().Be(Sample(x, y) * scale, $"pixel ({x},{y})");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(4, false)]
    [InlineData(8, true)]
    public void Palette_images_expand_to_RGB_or_RGBA_with_tRNS(int depth, bool withTrns)
    {
        var entries = 1 << depth;
        var plte = new byte[3 * entries];
        for (var i = 0; i < plte.Length; i++) plte[i] = (byte)(i * 37 + 11);
        var trns = withTrns ? new byte[] { 0, 128 } : null; // entries ≥ 2 stay opaque
        int Index(int x, int y) => (x + 2 * y) % entries;
        var png = PngBuilder.Build(9, 10, depth, 3, interlaced: depth == 2, (x, y) => [Index(x, y)], plte, trns);
        var img = PngDecoder.Decode(png, "pal.png");
        img.Channels.Should().Be(withTrns ? 4 : 3);
        for (var y = 0; y < 10; y++)
            for (var x = 0; x < 9; x++)
            {
                var k = Index(x, y);
                for (var c = 0; c < 3; c++) img[x, y, c].Should().Be(plte[3 * k + c]);
                if (withTrns) img[x, y, 3].Should().Be(k < 2 ? trns![k] : 255);
            }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Gray_alpha_and_interlaced_RGBA_decode(int depth)
    {
        var max = (1 << depth) - 1;
        var ga = PngDecoder.Decode(PngBuilder.Build(5, 7, depth, 4, true, (x, y) => [x * 40 % max, y * 30 % max]), "ga.png");
        ga.Channels.Should().Be(2);
        ga[4, 6, 0].Should().Be(160 % max);
        ga[4, 6, 1].Should().Be(180 % max);
        var rgba = PngDecoder.Decode(PngBuilder.Build(17, 9, depth, 6, true, (x, y) => [x, y, x + y, max - x]), "rgba.png");
        for (var y = 0; y < 9; y++)
            for (var x = 0; x < 17; x++)
                new[] { rgba[x, y, 0], rgba[x, y, 1], rgba[x, y, 2], rgba[x, y, 3] }.Should().Equal(x, y, x + y, max - x);
    }

    [Fact]
    public void RGB_and_gray_colour_keys_become_alpha()
    {
        var rgb = PngDecoder.Decode(PngBuilder.Build(4, 1, 8, 2, false, (x, _) => [x, 2, 3], trns: [0, 1, 0, 2, 0, 3]), "key.png");
        rgb.Channels.Should().Be(4);
        Enumerable.Range(0, 4).Select(x => rgb[x, 0, 3]).Should().Equal(255, 0, 255, 255);
        var gray = PngDecoder.Decode(PngBuilder.Build(4, 1, 2, 0, false, (x, _) => [x], trns: [0, 2]), "gkey.png");
        gray.Channels.Should().Be(2);
        Enumerable.Range(0, 4).Select(x => gray[x, 0, 1]).Should().Equal(255, 255, 0, 255);
    }

    [Fact]
    public void Truncated_png_names_the_file_and_the_chunk()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Kodak, "kodim01.png"));
        var act = () => PngDecoder.Decode(bytes.AsSpan(0, bytes.Length / 2), "kodim01.png");
        act.Should().Throw<ImageFormatException>().WithMessage("kodim01.png: truncated IDAT at byte *");
        FluentActions.Invoking(() => PngDecoder.Decode(bytes.AsSpan(0, 30), "k.png")).Should().Throw<ImageFormatException>().WithMessage("k.png: *");
    }

    [Fact]
    public void Corrupt_pngs_give_clear_errors()
    {
        var good = PngEncoder.Encode(RandomImage(8, 8, 3, 8, 1));
        var crc = (byte[])good.Clone();
        crc[20] ^= 0x40; // inside IHDR
        FluentActions.Invoking(() => PngDecoder.Decode(crc, "crc.png")).Should().Throw<ImageFormatException>().WithMessage("crc.png: CRC mismatch in IHDR*");

        var badFilter = PngBuilder.Build(2, 2, 8, 0, false, (_, _) => [0]);
        // Rebuild with a raw stream whose first filter byte is 9.
        var ms = new MemoryStream();
        ms.Write(badFilter.AsSpan(0, 8 + 25));
        var z = new MemoryStream();
        using (var zs = new System.IO.Compression.ZLibStream(z, System.IO.Compression.CompressionLevel.Fastest, true)) zs.Write([9, 0, 0, 0, 0, 0]);
        PngBuilder.Chunk(ms, "IDAT", z.ToArray());
        PngBuilder.Chunk(ms, "IEND", []);
        FluentActions.Invoking(() => PngDecoder.Decode(ms.ToArray(), "f.png")).Should().Throw<ImageFormatException>().WithMessage("*unknown filter type 9*");

        FluentActions.Invoking(() => ImageIO.Decode("GIF89a..."u8, "x.gif")).Should().Throw<ImageFormatException>().WithMessage("x.gif: neither a PNG nor a JPEG*");
    }
}
