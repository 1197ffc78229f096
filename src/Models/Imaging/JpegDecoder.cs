using System.Runtime.InteropServices;

namespace CoFUsfl.Models.Imaging;

/// <summary>
/// JPEG decoding to 8-bit RGB through libjpeg-turbo's TurboJPEG API (<c>libturbojpeg.so.0</c>), with the library's
/// defaults (accurate integer IDCT, fancy upsampling) like PIL. libjpeg warnings such as a premature end of the
/// file are errors: training on silently half-grey images is worse than skipping them.
/// </summary>
public static partial class JpegDecoder
{
    private const string Lib = "libturbojpeg.so.0";
    private const int TjpfRgb = 0;

    [LibraryImport(Lib)] private static partial nint tjInitDecompress();
    [LibraryImport(Lib)] private static partial int tjDestroy(nint handle);
    [LibraryImport(Lib)]
    private static unsafe partial int tjDecompressHeader3(nint handle, byte* jpegBuf, nuint jpegSize, out int width, out int height, out int subsamp, out int colorspace);
    [LibraryImport(Lib)]
    private static unsafe partial int tjDecompress2(nint handle, byte* jpegBuf, nuint jpegSize, byte* dstBuf, int width, int pitch, int height, int pixelFormat, int flags);
    [LibraryImport(Lib)] private static partial nint tjGetErrorStr2(nint handle);

    /// <summary>True when <paramref name="data"/> starts with a JPEG SOI marker.</summary>
    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>Decodes a JPEG held in memory to an 8-bit RGB <see cref="Image"/>; <paramref name="name"/> labels errors.</summary>
    /// <exception cref="ImageFormatException">Invalid or truncated data, with libjpeg-turbo's message; or the library is missing.</exception>
    public static unsafe Image Decode(ReadOnlySpan<byte> data, string name = "<jpeg>", long maxPixels = PngDecoder.MaxPixels)
    {
        if (data.IsEmpty) throw new ImageFormatException(name, "empty file");
        nint handle;
        try { handle = tjInitDecompress(); }
        catch (DllNotFoundException e)
        {
            throw new ImageFormatException(name, $"cannot decode JPEG: {Lib} is not installed (apt-get install libturbojpeg0)", e);
        }
        if (handle == 0) throw new ImageFormatException(name, "libjpeg-turbo: tjInitDecompress failed");
        try
        {
            fixed (byte* src = data)
            {
                if (tjDecompressHeader3(handle, src, (nuint)data.Length, out var w, out var h, out _, out _) != 0)
                    throw new ImageFormatException(name, $"libjpeg-turbo: {Error(handle)}");
                if (w <= 0 || h <= 0)
                    throw new ImageFormatException(name, "truncated or invalid JPEG: no frame header (image size) found");
                if ((long)w * h > PngDecoder.MaxPixels)
                    throw new ImageFormatException(name, $"unsupported JPEG size {w}x{h}");
                if ((long)w * h > maxPixels)
                    throw new ImageFormatException(name, $"{w}x{h} is {(long)w * h} pixels, above the limit of {maxPixels}");
                var pixels = new byte[checked(w * h * 3)];
                fixed (byte* dst = pixels)
                {
                    if (tjDecompress2(handle, src, (nuint)data.Length, dst, w, 0, h, TjpfRgb, 0) != 0)
                        throw new ImageFormatException(name, $"libjpeg-turbo: {Error(handle)}");
                }
                return Image.FromData(w, h, 3, pixels);
            }
        }
        finally { tjDestroy(handle); }
    }

    private static string Error(nint handle) => Marshal.PtrToStringUTF8(tjGetErrorStr2(handle))?.Trim() ?? "unknown error";
}
