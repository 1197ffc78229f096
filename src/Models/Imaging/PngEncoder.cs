using System.Buffers.Binary;
using System.IO.Compression;

namespace CoFUsfl.Models.Imaging;

/// <summary>Scanline filter choice for <see cref="PngEncoder"/>.</summary>
public enum PngFilter
{
    /// <summary>No prediction.</summary>
    None = 0,
    /// <summary>Left neighbour.</summary>
    Sub = 1,
    /// <summary>Upper neighbour.</summary>
    Up = 2,
    /// <summary>Mean of left and upper.</summary>
    Average = 3,
    /// <summary>Paeth predictor.</summary>
    Paeth = 4,
    /// <summary>Per row, the filter with the smallest sum of absolute signed residuals (libpng's heuristic).</summary>
    Adaptive = 5,
}

/// <summary>
/// PNG encoder for <see cref="Image"/>: gray, gray+alpha, RGB, RGBA at 8 or 16 bits, non-interlaced,
/// zlib-compressed IDAT split into chunks of at most 1 MiB, every chunk with its CRC.
/// </summary>
public static class PngEncoder
{
    private const int MaxIdat = 1 << 20;

    /// <summary>Encodes <paramref name="image"/> as PNG bytes.</summary>
    public static byte[] Encode(Image image, PngFilter filter = PngFilter.Adaptive, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(image);
        var ms = new MemoryStream();
        Write(ms, image, filter, level);
        return ms.ToArray();
    }

    /// <summary>Writes <paramref name="image"/> as PNG to <paramref name="output"/>.</summary>
    public static void Write(Stream output, Image image, PngFilter filter = PngFilter.Adaptive, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!Enum.IsDefined(filter)) throw new ArgumentOutOfRangeException(nameof(filter), filter, "unknown PNG filter");
        output.Write(PngDecoder.Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)image.Height);
        ihdr[8] = (byte)image.BitDepth;
        ihdr[9] = image.Channels switch { 1 => 0, 2 => 4, 3 => 2, _ => 6 };
        ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
        WriteChunk(output, "IHDR", ihdr);

        var bytesPerSample = image.BitDepth / 8;
        var bpp = image.Channels * bytesPerSample;
        var stride = image.Width * bpp;
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, level, leaveOpen: true))
        {
            var prev = new byte[stride];
            var cur = new byte[stride];
            var outRow = new byte[stride + 1];
            var best = new byte[stride + 1];
            for (var y = 0; y < image.Height; y++)
            {
                GetRow(image, y, cur);
                if (filter == PngFilter.Adaptive)
                {
                    var bestScore = long.MaxValue;
                    for (var f = 0; f <= 4; f++)
                    {
                        FilterRow(f, cur, prev, bpp, outRow);
                        long score = 0;
                        for (var i = 1; i < outRow.Length; i++) score += Math.Abs((int)(sbyte)outRow[i]);
                        if (score < bestScore) { bestScore = score; (best, outRow) = (outRow, best); }
                    }
                    z.Write(best);
                }
                else
                {
                    FilterRow((int)filter, cur, prev, bpp, outRow);
                    z.Write(outRow);
                }
                (prev, cur) = (cur, prev);
            }
        }

        var data = compressed.GetBuffer().AsSpan(0, (int)compressed.Length);
        for (var off = 0; off < data.Length; off += MaxIdat)
            WriteChunk(output, "IDAT", data.Slice(off, Math.Min(MaxIdat, data.Length - off)));
        WriteChunk(output, "IEND", []);
    }

    private static void GetRow(Image image, int y, Span<byte> row)
    {
        var n = image.Width * image.Channels;
        if (image.BitDepth == 8)
        {
            image.Data8.AsSpan(y * n, n).CopyTo(row);
            return;
        }
        var src = image.Data16.AsSpan(y * n, n);
        for (var i = 0; i < n; i++) BinaryPrimitives.WriteUInt16BigEndian(row[(2 * i)..], src[i]);
    }

    private static void FilterRow(int filter, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> prev, int bpp, Span<byte> output)
    {
        output[0] = (byte)filter;
        var o = output[1..];
        for (var i = 0; i < cur.Length; i++)
        {
            var a = i >= bpp ? cur[i - bpp] : (byte)0;
            var b = prev[i];
            var c = i >= bpp ? prev[i - bpp] : (byte)0;
            o[i] = filter switch
            {
                0 => cur[i],
                1 => (byte)(cur[i] - a),
                2 => (byte)(cur[i] - b),
                3 => (byte)(cur[i] - ((a + b) >> 1)),
                _ => (byte)(cur[i] - PngDecoder.Paeth(a, b, c)),
            };
        }
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)body.Length);
        for (var i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        output.Write(head);
        output.Write(body);
        var crc = Crc32.Update(0xFFFFFFFFu, head[4..]);
        crc = Crc32.Finish(Crc32.Update(crc, body));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        output.Write(tail);
    }
}
