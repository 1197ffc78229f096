using System.Buffers.Binary;
using System.IO.Compression;

namespace CoFUsfl.Models.Imaging;

/// <summary>
/// PNG decoder (ISO/IEC 15948): bit depths 1/2/4/8/16; gray, gray+alpha, RGB, RGBA and palette; tRNS; Adam7;
/// all five filters; every chunk CRC checked; any number of IDAT chunks.
/// Output: palette images become RGB (RGBA with tRNS); gray/RGB with a tRNS colour gain an alpha channel;
/// 1/2/4-bit gray is scaled to 8 bits (v · 255 / (2^depth − 1)); 16-bit stays 16-bit.
/// </summary>
public static class PngDecoder
{
    internal static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Largest accepted image: 2^28 pixels (guards against absurd headers before allocating).</summary>
    public const long MaxPixels = 1L << 28;

    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <summary>True when <paramref name="data"/> starts with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    /// <summary>Decodes a PNG held in memory; <paramref name="name"/> labels errors.</summary>
    /// <exception cref="ImageFormatException">Anything invalid, with the byte position or row.</exception>
    public static Image Decode(ReadOnlySpan<byte> data, string name = "<png>", long maxPixels = MaxPixels)
    {
        if (!IsPng(data)) throw new ImageFormatException(name, "not a PNG file (bad signature)");
        var pos = 8;
        int width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
        byte[]? palette = null;
        byte[]? trns = null;
        var idat = new MemoryStream();
        var seenIend = false;
        var first = true;

        while (!seenIend)
        {
            if (pos + 8 > data.Length)
                throw new ImageFormatException(name, $"truncated file at byte {pos}: no IEND chunk");
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var typeBytes = data.Slice(pos + 4, 4);
            var type = System.Text.Encoding.ASCII.GetString(typeBytes);
            if (length > int.MaxValue) throw new ImageFormatException(name, $"chunk {type} at byte {pos} claims {length} bytes");
            if (pos + 12L + length > data.Length)
                throw new ImageFormatException(name, $"truncated {type} at byte {pos}: chunk needs {length + 12} bytes, {data.Length - pos} left");
            var body = data.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            if (Crc32.Compute(data.Slice(pos + 4, 4 + (int)length)) != crc)
                throw new ImageFormatException(name, $"CRC mismatch in {type} chunk at byte {pos}");

            if (first && type != "IHDR") throw new ImageFormatException(name, $"first chunk is {type}, not IHDR");
            switch (type)
            {
                case "IHDR":
                    if (!first) throw new ImageFormatException(name, $"second IHDR at byte {pos}");
                    if (length != 13) throw new ImageFormatException(name, $"IHDR has {length} bytes, not 13");
                    width = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body), int.MaxValue);
                    height = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body[4..]), int.MaxValue);
                    depth = body[8];
                    colorType = body[9];
                    interlace = body[12];
                    if (width == 0 || height == 0 || (long)width * height > MaxPixels)
                        throw new ImageFormatException(name, $"unsupported image size {width}x{height}");
                    if ((long)width * height > maxPixels)
                        throw new ImageFormatException(name, $"{width}x{height} is {(long)width * height} pixels, above the limit of {maxPixels}");
                    if (body[10] != 0 || body[11] != 0) throw new ImageFormatException(name, $"unknown compression {body[10]} or filter method {body[11]}");
                    if (interlace > 1) throw new ImageFormatException(name, $"unknown interlace method {interlace}");
                    var okDepth = colorType switch
                    {
                        0 => depth is 1 or 2 or 4 or 8 or 16,
                        3 => depth is 1 or 2 or 4 or 8,
                        2 or 4 or 6 => depth is 8 or 16,
                        _ => false,
                    };
                    if (!okDepth) throw new ImageFormatException(name, $"invalid colour type {colorType} with bit depth {depth}");
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0 || length > 768) throw new ImageFormatException(name, $"PLTE has {length} bytes");
                    palette = body.ToArray();
                    break;
                case "tRNS":
                    trns = body.ToArray();
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    seenIend = true;
                    break;
                default:
                    if ((typeBytes[0] & 0x20) == 0) throw new ImageFormatException(name, $"unknown critical chunk {type} at byte {pos}");
                    break; // ancillary: ignored
            }
            first = false;
            pos += 12 + (int)length;
        }

        if (idat.Length == 0) throw new ImageFormatException(name, "no IDAT chunk");
        if (colorType == 3 && palette is null) throw new ImageFormatException(name, "palette image without PLTE chunk");

        var samplesPerPixel = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var bitsPerPixel = samplesPerPixel * depth;
        var filterBpp = Math.Max(1, bitsPerPixel / 8);

        // Expected filtered-data size over all passes.
        long expected = 0;
        var passes = interlace == 1 ? Adam7 : [(0, 0, 1, 1)];
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var (pw, ph) = PassSize(width, height, x0, y0, dx, dy);
            if (pw > 0 && ph > 0) expected += ph * (1 + ((long)pw * bitsPerPixel + 7) / 8);
        }
        if (expected > int.MaxValue) throw new ImageFormatException(name, "image data too large");

        var raw = new byte[expected];
        idat.Position = 0;
        var got = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            while (got < raw.Length)
            {
                var r = z.Read(raw, got, raw.Length - got);
                if (r == 0) break;
                got += r;
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException(name, $"corrupt IDAT zlib data after {got} of {expected} bytes: {e.Message}", e);
        }
        if (got < expected)
            throw new ImageFormatException(name, $"truncated IDAT data: {got} of {expected} bytes decompressed");

        // Output layout.
        var hasTrnsAlpha = trns is not null && colorType is 0 or 2 or 3;
        var outChannels = colorType switch
        {
            0 => hasTrnsAlpha ? 2 : 1,
            2 => hasTrnsAlpha ? 4 : 3,
            3 => hasTrnsAlpha ? 4 : 3,
            4 => 2,
            _ => 4,
        };
        var outDepth = depth == 16 ? 16 : 8;
        var image = new Image(width, height, outChannels, outDepth);
        var p = new PixelWriter(image, colorType, depth, palette, trns, name);

        var offset = 0;
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var (pw, ph) = PassSize(width, height, x0, y0, dx, dy);
            if (pw == 0 || ph == 0) continue;
            var stride = (int)(((long)pw * bitsPerPixel + 7) / 8);
            var prev = new byte[stride];
            var cur = new byte[stride];
            for (var row = 0; row < ph; row++)
            {
                var filter = raw[offset];
                raw.AsSpan(offset + 1, stride).CopyTo(cur);
                offset += 1 + stride;
                Unfilter(filter, cur, prev, filterBpp, name, y0 + row * dy);
                p.WriteRow(cur, y0 + row * dy, x0, dx, pw);
                (prev, cur) = (cur, prev);
            }
        }
        return image;
    }

    private static (int W, int H) PassSize(int width, int height, int x0, int y0, int dx, int dy) =>
        (width > x0 ? (width - x0 + dx - 1) / dx : 0, height > y0 ? (height - y0 + dy - 1) / dy : 0);

    private static void Unfilter(byte filter, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp, string name, int y)
    {
        switch (filter)
        {
            case 0: break;
            case 1:
                for (var i = bpp; i < cur.Length; i++) cur[i] += cur[i - bpp];
                break;
            case 2:
                for (var i = 0; i < cur.Length; i++) cur[i] += prev[i];
                break;
            case 3:
                for (var i = 0; i < bpp && i < cur.Length; i++) cur[i] += (byte)(prev[i] >> 1);
                for (var i = bpp; i < cur.Length; i++) cur[i] += (byte)((cur[i - bpp] + prev[i]) >> 1);
                break;
            case 4:
                for (var i = 0; i < bpp && i < cur.Length; i++) cur[i] += prev[i]; // Paeth(0, b, 0) = b
                for (var i = bpp; i < cur.Length; i++) cur[i] += Paeth(cur[i - bpp], prev[i], prev[i - bpp]);
                break;
            default:
                throw new ImageFormatException(name, $"row {y}: unknown filter type {filter}");
        }
    }

    internal static byte Paeth(byte a, byte b, byte c)
    {
        var p = a + b - c;
        var pa = Math.Abs(p - a);
        var pb = Math.Abs(p - b);
        var pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Unpacks one unfiltered row into the output image, expanding palette, low depths and tRNS.</summary>
    private readonly struct PixelWriter(Image image, int colorType, int depth, byte[]? palette, byte[]? trns, string name)
    {
        public void WriteRow(ReadOnlySpan<byte> row, int y, int x0, int dx, int count)
        {
            var ch = image.Channels;
            if (depth == 16)
            {
                var d = image.Data16;
                var spp = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
                for (var i = 0; i < count; i++)
                {
                    var o = (y * image.Width + x0 + i * dx) * ch;
                    for (var s = 0; s < spp; s++) d[o + s] = BinaryPrimitives.ReadUInt16BigEndian(row[((i * spp + s) * 2)..]);
                    if (spp < ch) // tRNS colour key → alpha
                    {
                        var transparent = true;
                        for (var s = 0; s < spp; s++)
                            transparent &= trns!.Length >= 2 * (s + 1) && d[o + s] == BinaryPrimitives.ReadUInt16BigEndian(trns.AsSpan(2 * s));
                        d[o + spp] = transparent ? (ushort)0 : (ushort)65535;
                    }
                }
                return;
            }

            var data = image.Data8;
            if (depth == 8 && colorType != 3)
            {
                var spp = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
                if (spp == ch && dx == 1)
                {
                    row[..(count * spp)].CopyTo(data.AsSpan(y * image.Width * ch + x0 * ch));
                    return;
                }
                for (var i = 0; i < count; i++)
                {
                    var o = (y * image.Width + x0 + i * dx) * ch;
                    for (var s = 0; s < spp; s++) data[o + s] = row[i * spp + s];
                    if (spp < ch)
                    {
                        var transparent = true;
                        for (var s = 0; s < spp; s++)
                            transparent &= trns!.Length >= 2 * (s + 1) && row[i * spp + s] == BinaryPrimitives.ReadUInt16BigEndian(trns.AsSpan(2 * s));
                        data[o + spp] = transparent ? (byte)0 : (byte)255;
                    }
                }
                return;
            }

            // Palette (any depth ≤ 8) or gray at 1/2/4 bits: one sample per pixel, packed MSB first.
            var mask = (1 << depth) - 1;
            var scale = 255 / mask;
            var entries = palette is null ? 0 : palette.Length / 3;
            for (var i = 0; i < count; i++)
            {
                var bit = i * depth;
                var v = (row[bit >> 3] >> (8 - depth - (bit & 7))) & mask;
                var o = (y * image.Width + x0 + i * dx) * ch;
                if (colorType == 3)
                {
                    if (v >= entries) throw new ImageFormatException(name, $"row {y}: palette index {v} beyond the {entries}-entry PLTE");
                    data[o] = palette![3 * v];
                    data[o + 1] = palette[3 * v + 1];
                    data[o + 2] = palette[3 * v + 2];
                    if (ch == 4) data[o + 3] = v < trns!.Length ? trns[v] : (byte)255;
                }
                else
                {
                    data[o] = (byte)(v * scale);
                    if (ch == 2) data[o + 1] = trns!.Length >= 2 && v == BinaryPrimitives.ReadUInt16BigEndian(trns) ? (byte)0 : (byte)255;
                }
            }
        }
    }
}
