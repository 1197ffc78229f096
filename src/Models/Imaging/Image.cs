namespace CoFUsfl.Models.Imaging;

/// <summary>
/// A decoded raster: <see cref="Width"/> × <see cref="Height"/> pixels of <see cref="Channels"/> interleaved samples
/// (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), 8 or 16 bits per sample, rows top to bottom.
/// 8-bit samples live in <see cref="Data8"/>, 16-bit ones in <see cref="Data16"/>.
/// </summary>
public sealed class Image
{
    private readonly byte[]? _data8;
    private readonly ushort[]? _data16;

    /// <summary>A zero-filled image.</summary>
    public Image(int width, int height, int channels, int bitDepth = 8)
    {
        Check(width, height, channels, bitDepth);
        Width = width; Height = height; Channels = channels; BitDepth = bitDepth;
        var n = checked(width * height * channels);
        if (bitDepth == 8) _data8 = new byte[n]; else _data16 = new ushort[n];
    }

    private Image(int width, int height, int channels, byte[]? d8, ushort[]? d16)
    {
        Width = width; Height = height; Channels = channels;
        BitDepth = d8 is not null ? 8 : 16;
        _data8 = d8; _data16 = d16;
    }

    /// <summary>Wraps 8-bit interleaved samples (not copied).</summary>
    public static Image FromData(int width, int height, int channels, byte[] data)
    {
        Check(width, height, channels, 8);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != (long)width * height * channels)
            throw new ArgumentException($"{width}x{height}x{channels} needs {(long)width * height * channels} samples, got {data.Length}", nameof(data));
        return new Image(width, height, channels, data, null);
    }

    /// <summary>Wraps 16-bit interleaved samples (not copied).</summary>
    public static Image FromData(int width, int height, int channels, ushort[] data)
    {
        Check(width, height, channels, 16);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != (long)width * height * channels)
            throw new ArgumentException($"{width}x{height}x{channels} needs {(long)width * height * channels} samples, got {data.Length}", nameof(data));
        return new Image(width, height, channels, null, data);
    }

    private static void Check(int width, int height, int channels, int bitDepth)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} must be positive");
        if (channels is < 1 or > 4) throw new ArgumentException($"{channels} channels: must be 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)");
        if (bitDepth is not (8 or 16)) throw new ArgumentException($"bit depth {bitDepth}: must be 8 or 16");
        if ((long)width * height * channels > int.MaxValue) throw new ArgumentException($"image {width}x{height}x{channels} is too large");
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>Samples per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.</summary>
    public int Channels { get; }
    /// <summary>8 or 16.</summary>
    public int BitDepth { get; }
    /// <summary>Largest sample value: 255 or 65535.</summary>
    public int MaxValue => BitDepth == 8 ? 255 : 65535;
    /// <summary>True for gray+alpha and RGBA.</summary>
    public bool HasAlpha => Channels is 2 or 4;

    /// <summary>8-bit samples, row-major, interleaved.</summary>
    public byte[] Data8 => _data8 ?? throw new InvalidOperationException("this is a 16-bit image; use Data16");
    /// <summary>16-bit samples, row-major, interleaved.</summary>
    public ushort[] Data16 => _data16 ?? throw new InvalidOperationException("this is an 8-bit image; use Data8");

    /// <summary>Sample <paramref name="c"/> of pixel (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public int this[int x, int y, int c]
    {
        get
        {
            var i = Index(x, y, c);
            return _data8 is not null ? _data8[i] : _data16![i];
        }
        set
        {
            var i = Index(x, y, c);
            if ((uint)value > (uint)MaxValue) throw new ArgumentOutOfRangeException(nameof(value), value, $"sample must be 0..{MaxValue}");
            if (_data8 is not null) _data8[i] = (byte)value; else _data16![i] = (ushort)value;
        }
    }

    private int Index(int x, int y, int c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || (uint)c >= (uint)Channels)
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}, {c}) is outside {Width}x{Height}x{Channels}");
        return (y * Width + x) * Channels + c;
    }

    /// <summary>True when both images have the same size, layout, depth and samples.</summary>
    public bool SameAs(Image other) =>
        other.Width == Width && other.Height == Height && other.Channels == Channels && other.BitDepth == BitDepth &&
        (_data8 is not null ? _data8.AsSpan().SequenceEqual(other._data8) : _data16.AsSpan().SequenceEqual(other._data16));

    /// <inheritdoc/>
    public override string ToString() => $"Image({Width}x{Height}, {Channels} ch, {BitDepth}-bit)";
}

/// <summary>A file that is not a valid image of its format; the message names the file and what is wrong.</summary>
public sealed class ImageFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="fileName"/> (or another label) starts the message.</summary>
    public ImageFormatException(string fileName, string message, Exception? inner = null) : base($"{fileName}: {message}", inner)
    {
        FileName = fileName;
    }

    /// <summary>The file (or label) that failed.</summary>
    public string FileName { get; }
}
