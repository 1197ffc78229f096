namespace CoFUsfl.Models.Imaging;

/// <summary>Reads PNG and JPEG files (by content, not extension) and writes PNG.</summary>
public static class ImageIO
{
    /// <summary>File extensions <see cref="Read"/> handles (lower case, with the dot).</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg" };

    /// <summary>Reads a PNG or JPEG file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageFormatException">Neither PNG nor JPEG, or corrupt/truncated; the message starts with the file name.</exception>
    /// <param name="maxPixels">Largest image accepted, checked against the header before any pixel is allocated.</param>
    public static Image Read(string path, long maxPixels = PngDecoder.MaxPixels)
    {
        ArgumentNullException.ThrowIfNull(path);
        var data = File.ReadAllBytes(path);
        return Decode(data, Path.GetFileName(path), maxPixels);
    }

    /// <summary>Decodes PNG or JPEG bytes; <paramref name="name"/> labels errors.</summary>
    public static Image Decode(ReadOnlySpan<byte> data, string name, long maxPixels = PngDecoder.MaxPixels)
    {
        if (PngDecoder.IsPng(data)) return PngDecoder.Decode(data, name, maxPixels);
        if (JpegDecoder.IsJpeg(data)) return JpegDecoder.Decode(data, name, maxPixels);
        throw new ImageFormatException(name, data.Length == 0 ? "empty file" : "neither a PNG nor a JPEG file (unknown signature)");
    }

    /// <summary>Writes <paramref name="image"/> as PNG (creating the folder if needed).</summary>
    public static void WritePng(string path, Image image, PngFilter filter = PngFilter.Adaptive)
    {
        ArgumentNullException.ThrowIfNull(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var f = File.Create(path);
        PngEncoder.Write(f, image, filter);
    }
}
