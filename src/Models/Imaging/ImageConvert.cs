namespace CoFUsfl.Models.Imaging;

/// <summary>Conversions between <see cref="Image"/> and the float CHW planar arrays the codec models use.</summary>
public static class ImageConvert
{
    /// <summary>
    /// RGB float32 CHW planar array in [0, 1] (shape 3 × H × W): samples divided by 255 or 65535; gray is repeated
    /// into 3 channels; alpha is dropped.
    /// </summary>
    public static float[] ToChwFloat(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new float[3L * image.Height * image.Width];
        ToChwFloat(image, result);
        return result;
    }

    /// <summary>As <see cref="ToChwFloat(Image)"/>, into <paramref name="destination"/> (at least 3·H·W floats).</summary>
    public static void ToChwFloat(Image image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        var plane = image.Width * image.Height;
        if (destination.Length < 3L * plane)
            throw new ArgumentException($"destination holds {destination.Length} floats, needs {3L * plane}", nameof(destination));
        var ch = image.Channels;
        var colour = ch >= 3;
        float max = image.MaxValue; // divide (not multiply by 1/max) to match torchvision's ToTensor exactly
        var r = destination[..plane];
        var g = destination.Slice(plane, plane);
        var b = destination.Slice(2 * plane, plane);
        if (image.BitDepth == 8)
        {
            var d = image.Data8;
            for (int i = 0, o = 0; i < plane; i++, o += ch)
            {
                r[i] = d[o] / max;
                g[i] = d[colour ? o + 1 : o] / max;
                b[i] = d[colour ? o + 2 : o] / max;
            }
        }
        else
        {
            var d = image.Data16;
            for (int i = 0, o = 0; i < plane; i++, o += ch)
            {
                r[i] = d[o] / max;
                g[i] = d[colour ? o + 1 : o] / max;
                b[i] = d[colour ? o + 2 : o] / max;
            }
        }
    }

    /// <summary>
    /// 8-bit RGB image from a float CHW array (3 × <paramref name="height"/> × <paramref name="width"/>) in [0, 1]:
    /// v · 255 rounded half to even (like <c>torch.round</c>) and clamped to 0..255; NaN becomes 0.
    /// </summary>
    public static Image FromChwFloat(ReadOnlySpan<float> chw, int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"size {width}x{height} must be positive");
        var plane = height * width;
        if (chw.Length != 3L * plane)
            throw new ArgumentException($"a 3x{height}x{width} array has {3L * plane} floats, got {chw.Length}", nameof(chw));
        var data = new byte[3 * plane];
        for (var c = 0; c < 3; c++)
        {
            var src = chw.Slice(c * plane, plane);
            for (var i = 0; i < plane; i++) data[3 * i + c] = ToByte(src[i]);
        }
        return Image.FromData(width, height, 3, data);
    }

    /// <summary>Quantizes a [0, 1] float to 0..255 (round half to even, clamp, NaN → 0).</summary>
    public static byte ToByte(float v)
    {
        var s = MathF.Round(v * 255f);
        return s >= 255f ? (byte)255 : s > 0f ? (byte)s : (byte)0;
    }

    /// <summary>8-bit RGB copy: gray expanded, alpha dropped, 16-bit rounded to 8 (v · 255 / 65535).</summary>
    public static Image ToRgb8(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image is { Channels: 3, BitDepth: 8 }) return image;
        var n = image.Width * image.Height;
        var data = new byte[3 * n];
        var ch = image.Channels;
        for (var i = 0; i < n; i++)
            for (var c = 0; c < 3; c++)
            {
                var src = i * ch + (ch >= 3 ? c : 0);
                data[3 * i + c] = image.BitDepth == 8 ? image.Data8[src] : (byte)((image.Data16[src] * 255 + 32767) / 65535);
            }
        return Image.FromData(image.Width, image.Height, 3, data);
    }
}
