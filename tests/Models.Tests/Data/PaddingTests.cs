using CoFUsfl.Models.Data;

namespace CoFUsfl.Models.Tests.Data;

public class PaddingTests
{
    private static float[] Ramp(int c, int h, int w) => Enumerable.Range(0, c * h * w).Select(i => i / 1000f + 0.001f).ToArray();

    [Fact]
    public void Pads_centred_like_CompressAI_and_crops_back_exactly()
    {
        var src = Ramp(3, 70, 100);
        var p = Padding.PadToMultiple(src, 3, 70, 100, 64);
        (p.Height, p.Width).Should().Be((128, 128));
        (p.PadLeft, p.PadRight, p.PadTop, p.PadBottom).Should().Be((14, 14, 29, 29));
        p.Data[0].Should().Be(0, "zero padding");
        p.Data[29 * 128 + 14].Should().Be(src[0]);
        Padding.Crop(p.Data, p).Should().Equal(src);
    }

    [Fact]
    public void Replicate_repeats_edge_pixels()
    {
        var src = Ramp(1, 2, 3);
        var p = Padding.PadToMultiple(src, 1, 2, 3, 4, PadMode.Replicate);
        (p.Height, p.Width, p.PadLeft, p.PadTop).Should().Be((4, 4, 0, 1));
        p.Data.Take(4).Should().Equal(src[0], src[1], src[2], src[2]); // top row copies row 0, right column copies col 2
        p.Data.Skip(12).Should().Equal(src[3], src[4], src[5], src[5]);
        Padding.Crop(p.Data, p).Should().Equal(src);
    }

    [Fact]
    public void Kodak_sized_images_need_no_padding()
    {
        var ds = new ImageFolderDataset([TestPaths.Kodak]);
        var p = ds.LoadForEval(0);
        (p.Height, p.Width, p.PadLeft, p.PadTop).Should().Be((512, 768, 0, 0));
        p.Data.Should().HaveCount(3 * 512 * 768);
    }
}
