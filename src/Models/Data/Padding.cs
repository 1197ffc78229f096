namespace CoFUsfl.Models.Data;

/// <summary>How <see cref="Padding.PadToMultiple"/> fills the border.</summary>
public enum PadMode
{
    /// <summary>Zeros (CompressAI's evaluation <c>pad</c>: <c>F.pad(mode="constant", value=0)</c>).</summary>
    Zero,
    /// <summary>Repeat the edge pixel (<c>F.pad(mode="replicate")</c>).</summary>
    Replicate,
}

/// <summary>A CHW float image padded for a codec, with what is needed to crop the result back.</summary>
/// <param name="Data">C × Height × Width floats.</param>
/// <param name="PadLeft">Columns added on the left (right gets the rest); likewise rows on top.</param>
public sealed record PaddedImage(float[] Data, int Channels, int Height, int Width, int OriginalHeight, int OriginalWidth, int PadLeft, int PadTop)
{
    /// <summary>Columns added on the right.</summary>
    public int PadRight => Width - OriginalWidth - PadLeft;
    /// <summary>Rows added at the bottom.</summary>
    public int PadBottom => Height - OriginalHeight - PadTop;
}

/// <summary>Padding to a multiple of the codec's total stride (64 for 4+2 down-samplings) and cropping back.</summary>
public static class Padding
{
    /// <summary>
    /// Pads <paramref name="chw"/> (C × H × W) to the next multiples of <paramref name="multiple"/>, centred:
    /// left = (newW − W) / 2, right the rest; same for top/bottom — CompressAI's <c>pad(x, p)</c>.
    /// </summary>
    public static PaddedImage PadToMultiple(ReadOnlySpan<float> chw, int channels, int height, int width, int multiple = 64, PadMode mode = PadMode.Zero)
    {
        if (multiple < 1) throw new ArgumentOutOfRangeException(nameof(multiple), multiple, "multiple must be ≥ 1");
        if (channels < 1 || height < 1 || width < 1) throw new ArgumentException($"shape {channels}x{height}x{width} must be positive");
        if (chw.Length != (long)channels * height * width)
            throw new ArgumentException($"a {channels}x{height}x{width} array has {(long)channels * height * width} floats, got {chw.Length}", nameof(chw));
        var nh = (height + multiple - 1) / multiple * multiple;
        var nw = (width + multiple - 1) / multiple * multiple;
        var left = (nw - width) / 2;
        var top = (nh - height) / 2;
        var data = new float[(long)channels * nh * nw];
        for (var c = 0; c < channels; c++)
        {
            var src = chw.Slice(c * height * width, height * width);
            var dst = data.AsSpan(c * nh * nw, nh * nw);
            for (var y = 0; y < nh; y++)
            {
                var sy = y - top;
                if (mode == PadMode.Zero && (sy < 0 || sy >= height)) continue;
                sy = Math.Clamp(sy, 0, height - 1);
                var srow = src.Slice(sy * width, width);
                var drow = dst.Slice(y * nw, nw);
                srow.CopyTo(drow[left..]);
                if (mode == PadMode.Replicate)
                {
                    drow[..left].Fill(srow[0]);
                    drow[(left + width)..].Fill(srow[width - 1]);
                }
            }
        }
        return new PaddedImage(data, channels, nh, nw, height, width, left, top);
    }

    /// <summary>Cuts the original-size region out of a padded-size CHW array (e.g. the decoder's output).</summary>
    public static float[] Crop(ReadOnlySpan<float> paddedChw, PaddedImage layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var (c, nh, nw, h, w) = (layout.Channels, layout.Height, layout.Width, layout.OriginalHeight, layout.OriginalWidth);
        if (paddedChw.Length != (long)c * nh * nw)
            throw new ArgumentException($"expected {c}x{nh}x{nw} = {(long)c * nh * nw} floats, got {paddedChw.Length}", nameof(paddedChw));
        var result = new float[c * h * w];
        for (var k = 0; k < c; k++)
            for (var y = 0; y < h; y++)
                paddedChw.Slice((k * nh + y + layout.PadTop) * nw + layout.PadLeft, w).CopyTo(result.AsSpan((k * h + y) * w, w));
        return result;
    }
}
