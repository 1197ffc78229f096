using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Evaluation;

/// <summary>8-bit interleaved RGB pixels (the cached form of a training image).</summary>
public sealed record Rgb8(int Width, int Height, byte[] Pixels);

/// <summary>Image files of a folder, and their pixels in the forms the codecs and metrics take.</summary>
public static class ImageBridge
{
    /// <summary>PNG and JPEG files under <paramref name="folder"/> (recursive), in ordinal order for determinism.</summary>
    public static List<string> List(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder not found: {Path.GetFullPath(folder)}");
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => ImageIO.Extensions.Contains(Path.GetExtension(f)))
            .Order(StringComparer.Ordinal).ToList();
    }

    public static Rgb8 LoadRgb8(string path)
    {
        var img = ImageConvert.ToRgb8(ImageIO.Read(path));
        return new Rgb8(img.Width, img.Height, img.Data8);
    }

    /// <summary>RGB as float CHW in [0, 1].</summary>
    public static (float[] Chw, int Height, int Width) LoadChw(string path)
    {
        var img = ImageIO.Read(path);
        return (ImageConvert.ToChwFloat(img), img.Height, img.Width);
    }
}
