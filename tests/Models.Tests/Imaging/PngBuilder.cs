using System.Buffers.Binary;
using System.IO.Compression;

namespace CoFUsfl.Models.Tests.Imaging;

/// <summary>
/// Builds PNG files chunk by chunk, independently of the product encoder, for decoder cases it cannot write:
/// 1/2/4-bit, palette, tRNS, Adam7, several IDAT chunks. Rows use filter (row mod 5) so all filters appear.
/// </summary>
internal static class PngBuilder
{
    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <param name="samples">raw PNG samples of pixel (x, y): palette index, or 1..4 channel values at the bit depth.</param>
    public static byte[] Build(int width, int height, int depth, int colorType, bool interlaced, Func<int, int, int[]> samples,
        byte[]? plte = null, byte[]? trns = null, int idatChunks = 1)
    {
        var spp = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var bitsPerPixel = spp * depth;
        var bpp = Math.Max(1, bitsPerPixel / 8);
        var raw = new MemoryStream();
        var passes = interlaced ? Adam7 : [(0, 0, 1, 1)];
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var pw = width > x0 ? (width - x0 + dx - 1) / dx : 0;
            var ph = height > y0 ? (height - y0 + dy - 1) / dy : 0;
            if (pw == 0 || ph == 0) continue;
            var stride = (pw * bitsPerPixel + 7) / 8;
            var prev = new byte[stride];
            for (var r = 0; r < ph; r++)
            {
                var row = new byte[stride];
                for (var i = 0; i < pw; i++)
                {
                    var s = samples(x0 + i * dx, y0 + r * dy);
                    for (var k = 0; k < spp; k++)
                    {
                        var bit = (i * spp + k) * bitsPerPixel / spp;
                        if (depth == 16) BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(bit / 8), (ushort)s[k]);
                        else if (depth == 8) row[bit / 8] = (byte)s[k];
                        else row[bit >> 3] |= (byte)(s[k] << (8 - depth - (bit & 7)));
                    }
                }
                var filter = r % 5;
                raw.WriteByte((byte)filter);
                for (var i = 0; i < stride; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    var pred = filter switch
                    {
                        0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1,
                        _ => Math.Abs(b - c) <= Math.Abs(a - c) && Math.Abs(b - c) <= Math.Abs(a + b - 2 * c) ? a
                            : Math.Abs(a - c) <= Math.Abs(a + b - 2 * c) ? b : c,
                    };
                    raw.WriteByte((byte)(row[i] - pred));
                }
                prev = row;
            }
        }

        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(raw.ToArray());
        var compressed = z.ToArray();

        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)depth; ihdr[9] = (byte)colorType; ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "tEXt", "Comment\0ancillary chunks are skipped"u8.ToArray());
        if (plte is not null) Chunk(png, "PLTE", plte);
        if (trns is not null) Chunk(png, "tRNS", trns);
        var per = (compressed.Length + idatChunks - 1) / idatChunks;
        for (var off = 0; off < compressed.Length; off += per)
            Chunk(png, "IDAT", compressed.AsSpan(off, Math.Min(per, compressed.Length - off)).ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void Chunk(Stream s, string type, byte[] body)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, body.Length);
        for (var i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(body);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc(head.AsSpan(4).ToArray().Concat(body).ToArray()));
        s.Write(crc);
    }

    /// <summary>Bitwise CRC-32 (no table): an independent check of the decoder's CRC code.</summary>
    public static uint Crc(byte[] data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c ^= b;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        return ~c;
    }
}
