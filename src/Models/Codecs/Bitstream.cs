using System.Buffers.Binary;
using System.Text;

namespace CoFUsfl.Models.Codecs;

/// <summary>
/// The <c>.cfu</c> container of one compressed image: a header naming the model and sizes, then the rANS strings
/// of each latent (ŷ, then ẑ). Every byte counts in the reported bpp.
/// </summary>
/// <remarks>
/// Layout (little-endian): "CFU1", model name (u8 length + ASCII), N (u16), M (u16), image height and width (u16),
/// latent height and width (u16), latent count (u8), then per latent: string length (u32) and the bytes. A truncated
/// latent (<see cref="CompressedStrings.Kept"/>) is written as "CFU2": the same, with a bit mask of the kept ŷ channels
/// after the sizes (ceil(M / 8) bytes, channel c in bit c % 8 of byte c / 8).
/// </remarks>
public sealed record CompressedImage(string Model, int N, int M, int Height, int Width, CompressedStrings Strings)
{
    private static ReadOnlySpan<byte> Magic => "CFU1"u8;
    private static ReadOnlySpan<byte> TruncatedMagic => "CFU2"u8;

    public byte[] ToBytes()
    {
        if (Strings.Strings.Any(s => s.Length != 1)) throw new InvalidOperationException("a .cfu file holds one image (batch of 1)");
        using var ms = new MemoryStream();
        var kept = Strings.Kept;
        ms.Write(kept is null ? Magic : TruncatedMagic);
        var name = Encoding.ASCII.GetBytes(Model);
        ms.WriteByte(checked((byte)name.Length));
        ms.Write(name);
        Span<byte> b = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(b, checked((ushort)N));
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], checked((ushort)M));
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], checked((ushort)Height));
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], checked((ushort)Width));
        BinaryPrimitives.WriteUInt16LittleEndian(b[8..], checked((ushort)Strings.LatentHeight));
        BinaryPrimitives.WriteUInt16LittleEndian(b[10..], checked((ushort)Strings.LatentWidth));
        ms.Write(b);
        if (kept is not null)
        {
            if (kept.Length == 0 || kept.Any(c => c < 0 || c >= M)) throw new InvalidOperationException($"kept channels [{string.Join(", ", kept)}] of a latent of M = {M}");
            var mask = new byte[(M + 7) / 8];
            foreach (var c in kept) mask[c / 8] |= (byte)(1 << (c % 8));
            ms.Write(mask);
        }
        ms.WriteByte(checked((byte)Strings.Strings.Count));
        foreach (var s in Strings.Strings)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)s[0].Length);
            ms.Write(b[..4]);
            ms.Write(s[0]);
        }
        return ms.ToArray();
    }

    /// <summary>Parses a container; anything malformed or truncated is an <see cref="InvalidDataException"/> naming <paramref name="source"/>.</summary>
    public static CompressedImage Parse(ReadOnlySpan<byte> data, string source)
    {
        var pos = 0;
        ReadOnlySpan<byte> Take(ReadOnlySpan<byte> d, int n, string what, ref int p)
        {
            if (p + n > d.Length) throw new InvalidDataException($"{source}: truncated at byte {p} (reading {what})");
            var s = d.Slice(p, n);
            p += n;
            return s;
        }
        var magic = Take(data, 4, "magic", ref pos);
        var truncated = magic.SequenceEqual(TruncatedMagic);
        if (!truncated && !magic.SequenceEqual(Magic)) throw new InvalidDataException($"{source}: not a CoFUsfl .cfu bitstream (bad magic)");
        var nameLen = Take(data, 1, "model name length", ref pos)[0];
        var model = Encoding.ASCII.GetString(Take(data, nameLen, "model name", ref pos));
        var sizes = Take(data, 12, "sizes", ref pos);
        var dims = new int[6];
        for (var i = 0; i < 6; i++) dims[i] = BinaryPrimitives.ReadUInt16LittleEndian(sizes[(2 * i)..]);
        int Read(int o) => dims[o / 2];
        int[]? kept = null;
        if (truncated)
        {
            var m = Read(2);
            if (m == 0) throw new InvalidDataException($"{source}: a truncated latent of M = 0 channels");
            var mask = Take(data, (m + 7) / 8, "kept channel mask", ref pos).ToArray();
            kept = Enumerable.Range(0, m).Where(c => (mask[c / 8] & (1 << (c % 8))) != 0).ToArray();
            if (kept.Length == 0) throw new InvalidDataException($"{source}: the kept channel mask keeps none of the {m} channels");
            if (m % 8 != 0 && mask[^1] >> (m % 8) != 0) throw new InvalidDataException($"{source}: the kept channel mask sets bits above channel {m - 1}");
        }
        var count = Take(data, 1, "latent count", ref pos)[0];
        if (count is < 1 or > 4) throw new InvalidDataException($"{source}: {count} latents is not a valid count");
        var strings = new List<byte[][]>();
        for (var i = 0; i < count; i++)
        {
            var len = BinaryPrimitives.ReadUInt32LittleEndian(Take(data, 4, $"length of string {i}", ref pos));
            if (len > data.Length) throw new InvalidDataException($"{source}: string {i} claims {len} bytes, the file has {data.Length}");
            strings.Add([Take(data, (int)len, $"string {i}", ref pos).ToArray()]);
        }
        if (pos != data.Length) throw new InvalidDataException($"{source}: {data.Length - pos} trailing bytes after the last string");
        if (Read(4) == 0 || Read(6) == 0 || Read(8) == 0 || Read(10) == 0) throw new InvalidDataException($"{source}: zero image or latent size");
        return new CompressedImage(model, Read(0), Read(2), Read(4), Read(6), new CompressedStrings(strings, Read(8), Read(10)) { Kept = kept });
    }
}
