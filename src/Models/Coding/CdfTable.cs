using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CoFUsfl.Models.Imaging;

namespace CoFUsfl.Models.Coding;

/// <summary>
/// An immutable, precomputed set of quantized CDFs (CompressAI's <c>_quantized_cdf</c>, <c>_cdf_length</c> and
/// <c>_offset</c> buffers) ready for the rANS coder: per-symbol encoder reciprocals (no division when encoding)
/// and a per-CDF bucket table that finds the decoded symbol in O(1) expected steps.
/// Build it once per model and reuse it for every image; it is thread-safe to share.
/// </summary>
/// <remarks>
/// CDF <c>i</c> has <c>Length(i)</c> entries; symbols <c>0 … Length(i) − 3</c> are regular values
/// (value = symbol − offset), and the last symbol, <c>Length(i) − 2</c>, is the escape that announces a
/// bypass-coded value outside the table.
/// </remarks>
public sealed class CdfTable
{
    /// <summary>Probability precision in bits (CompressAI's <c>entropy_coder_precision</c>).</summary>
    public const int Precision = QuantizedCdf.Precision;

    /// <summary>Bits of the decode bucket index: 2^10 buckets of 64 slots per CDF (2 KiB each).</summary>
    internal const int BucketBits = 10;
    internal const int BucketShift = Precision - BucketBits;

    private const uint Magic = 0x54464443; // "CDFT" little-endian
    private const ushort FormatVersion = 1;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Entry
    {
        public int CdfBase;    // into Cdf
        public int EncBase;    // into Enc
        public int BucketBase; // into Buckets
        public int MaxValue;   // Length - 2: the escape symbol
        public int Offset;
        public int Length;
    }

    /// <summary>ryg_rans <c>Rans64EncSymbol</c> plus the precomputed renormalisation bound.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EncSymbol
    {
        public ulong RcpFreq;
        public ulong XMax;      // ((L >> 16) << 32) * freq
        public uint Bias;
        public uint CmplFreq;
        public int RcpShift;
        public uint Freq;
    }

    internal readonly Entry[] Entries;
    internal readonly int[] Cdf;
    internal readonly EncSymbol[] Enc;
    internal readonly ushort[] Buckets;
    private byte[]? _serialized;
    private string? _hash;

    /// <summary>
    /// Builds a table from CompressAI-format CDFs: <paramref name="cdfs"/>[i] holds at least
    /// <paramref name="cdfLengths"/>[i] entries (rows may be zero-padded beyond it, like CompressAI's 2-D buffer).
    /// </summary>
    /// <exception cref="ArgumentException">Mismatched counts, or a CDF that breaks the invariants (named by index).</exception>
    public CdfTable(IReadOnlyList<int[]> cdfs, ReadOnlySpan<int> cdfLengths, ReadOnlySpan<int> offsets)
    {
        ArgumentNullException.ThrowIfNull(cdfs);
        if (cdfs.Count == 0) throw new ArgumentException("a CDF table needs at least one CDF", nameof(cdfs));
        if (cdfLengths.Length != cdfs.Count)
            throw new ArgumentException($"{cdfs.Count} CDFs but {cdfLengths.Length} CDF lengths", nameof(cdfLengths));
        if (offsets.Length != cdfs.Count)
            throw new ArgumentException($"{cdfs.Count} CDFs but {offsets.Length} offsets", nameof(offsets));

        var count = cdfs.Count;
        Entries = new Entry[count];
        long cdfTotal = 0, encTotal = 0;
        for (var i = 0; i < count; i++)
        {
            var row = cdfs[i] ?? throw new ArgumentException($"cdfs[{i}] is null", nameof(cdfs));
            var len = cdfLengths[i];
            if (len < 2 || len > row.Length)
                throw new ArgumentException($"cdfLengths[{i}] = {len} but cdfs[{i}] has {row.Length} entries (need 2 ≤ length ≤ row size)", nameof(cdfLengths));
            QuantizedCdf.Validate(row.AsSpan(0, len), $"cdfs[{i}]");
            Entries[i] = new Entry
            {
                CdfBase = (int)cdfTotal, EncBase = (int)encTotal, BucketBase = i << BucketBits,
                MaxValue = len - 2, Offset = offsets[i], Length = len,
            };
            cdfTotal += len;
            encTotal += len - 1;
            if (cdfTotal > int.MaxValue / 2) throw new ArgumentException("CDF table too large", nameof(cdfs));
        }

        Cdf = new int[cdfTotal];
        for (var i = 0; i < count; i++) cdfs[i].AsSpan(0, Entries[i].Length).CopyTo(Cdf.AsSpan(Entries[i].CdfBase));
        Enc = new EncSymbol[encTotal];
        Buckets = new ushort[(long)count << BucketBits];
        BuildDerived();
    }

    private CdfTable(Entry[] entries, int[] cdf)
    {
        Entries = entries;
        Cdf = cdf;
        var encTotal = 0;
        foreach (var e in entries) encTotal += e.Length - 1;
        Enc = new EncSymbol[encTotal];
        Buckets = new ushort[entries.Length << BucketBits];
        BuildDerived();
    }

    /// <summary>
    /// CompressAI's <c>EntropyModel._pmf_to_cdf</c> plus the table build: row i is the first
    /// <paramref name="pmfLengths"/>[i] entries of <paramref name="pmfs"/>[i] followed by <paramref name="tailMasses"/>[i],
    /// quantized with <see cref="QuantizedCdf.FromPmf"/>; its length is <c>pmfLengths[i] + 2</c>.
    /// </summary>
    public static CdfTable FromPmfs(IReadOnlyList<float[]> pmfs, ReadOnlySpan<int> pmfLengths, ReadOnlySpan<float> tailMasses, ReadOnlySpan<int> offsets)
    {
        ArgumentNullException.ThrowIfNull(pmfs);
        if (pmfLengths.Length != pmfs.Count || tailMasses.Length != pmfs.Count)
            throw new ArgumentException($"{pmfs.Count} pmfs but {pmfLengths.Length} lengths and {tailMasses.Length} tail masses");
        var cdfs = new int[pmfs.Count][];
        var lengths = new int[pmfs.Count];
        for (var i = 0; i < pmfs.Count; i++)
        {
            if ((uint)pmfLengths[i] > (uint)pmfs[i].Length)
                throw new ArgumentException($"pmfLengths[{i}] = {pmfLengths[i]} exceeds pmfs[{i}] size {pmfs[i].Length}", nameof(pmfLengths));
            cdfs[i] = QuantizedCdf.FromPmfWithTail(pmfs[i].AsSpan(0, pmfLengths[i]), tailMasses[i]);
            lengths[i] = cdfs[i].Length;
        }
        return new CdfTable(cdfs, lengths, offsets);
    }

    private void BuildDerived()
    {
        const ulong l = 1ul << 31;
        for (var i = 0; i < Entries.Length; i++)
        {
            ref readonly var e = ref Entries[i];
            var cdf = Cdf.AsSpan(e.CdfBase, e.Length);
            for (var s = 0; s < e.Length - 1; s++)
            {
                var start = (uint)cdf[s];
                var freq = (uint)(cdf[s + 1] - cdf[s]);
                Enc[e.EncBase + s] = MakeEncSymbol(start, freq, ((l >> Precision) << 32) * freq);
            }
            // Bucket b covers slots [b << shift, (b + 1) << shift); store the symbol owning its first slot.
            var buckets = Buckets.AsSpan(e.BucketBase, 1 << BucketBits);
            var sym = 0;
            for (var b = 0; b < buckets.Length; b++)
            {
                var slot = b << BucketShift;
                while (cdf[sym + 1] <= slot) sym++;
                buckets[b] = (ushort)sym;
            }
        }
    }

    /// <summary>ryg_rans <c>Rans64EncSymbolInit</c>: a fixed-point reciprocal that makes x / freq exact without dividing.</summary>
    private static EncSymbol MakeEncSymbol(uint start, uint freq, ulong xMax)
    {
        var s = new EncSymbol { Freq = freq, XMax = xMax, CmplFreq = (1u << Precision) - freq };
        if (freq < 2)
        {
            s.RcpFreq = ~0ul;
            s.RcpShift = 0;
            s.Bias = start + (1u << Precision) - 1;
        }
        else
        {
            var shift = 0;
            while (freq > 1u << shift) shift++;
            ulong x0 = freq - 1, x1 = 1ul << (shift + 31);
            var t1 = x1 / freq;
            x0 += (x1 % freq) << 32;
            var t0 = x0 / freq;
            s.RcpFreq = t0 + (t1 << 32);
            s.RcpShift = shift - 1;
            s.Bias = start;
        }
        return s;
    }

    /// <summary>Number of CDFs (valid indexes are 0 … Count − 1).</summary>
    public int Count => Entries.Length;

    /// <summary>Entries of CDF <paramref name="index"/> (CompressAI's <c>cdf_length</c>).</summary>
    public int GetLength(int index) => EntryAt(index).Length;

    /// <summary>Offset of CDF <paramref name="index"/>: symbol value = table position + offset.</summary>
    public int GetOffset(int index) => EntryAt(index).Offset;

    /// <summary>The quantized CDF <paramref name="index"/> (length <see cref="GetLength"/>).</summary>
    public ReadOnlySpan<int> GetCdf(int index)
    {
        ref readonly var e = ref EntryAt(index);
        return Cdf.AsSpan(e.CdfBase, e.Length);
    }

    /// <summary>Largest CDF length (CompressAI pads its 2-D buffer to this width).</summary>
    public int MaxLength => Entries.Max(e => e.Length);

    /// <summary>
    /// CompressAI's buffers: rows zero-padded to <see cref="MaxLength"/>, lengths and offsets — what
    /// <c>encode_with_indexes</c> takes, or a <c>state_dict</c> holds.
    /// </summary>
    public (int[][] Cdfs, int[] Lengths, int[] Offsets) ToCompressAI()
    {
        var width = MaxLength;
        var rows = new int[Count][];
        for (var i = 0; i < Count; i++)
        {
            rows[i] = new int[width];
            GetCdf(i).CopyTo(rows[i]);
        }
        return (rows, Entries.Select(e => e.Length).ToArray(), Entries.Select(e => e.Offset).ToArray());
    }

    private ref readonly Entry EntryAt(int index)
    {
        if ((uint)index >= (uint)Entries.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"CDF index outside the table (0..{Entries.Length - 1})");
        return ref Entries[index];
    }

    // ---- serialization --------------------------------------------------------------------------------------

    /// <summary>
    /// Stable binary form (little-endian): "CDFT", u16 format version (1), u16 precision (16), i32 count, then per CDF
    /// i32 offset, i32 length and (length − 1) × u16 (frequency − 1); finally a CRC-32 of everything before it.
    /// The same table always gives the same bytes, so <see cref="ContentHash"/> identifies it across processes.
    /// </summary>
    public byte[] Serialize() => (byte[])SerializedCached().Clone();

    /// <summary>Writes <see cref="Serialize"/>'s bytes to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream) => stream.Write(SerializedCached());

    private byte[] SerializedCached()
    {
        if (_serialized is not null) return _serialized;
        long size = 4 + 2 + 2 + 4 + 4;
        foreach (var e in Entries) size += 8 + 2L * (e.Length - 1);
        var buf = new byte[size];
        var p = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(p), Magic); p += 4;
        BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(p), FormatVersion); p += 2;
        BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(p), Precision); p += 2;
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(p), Entries.Length); p += 4;
        foreach (var e in Entries)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(p), e.Offset); p += 4;
            BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(p), e.Length); p += 4;
            for (var s = 0; s < e.Length - 1; s++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(p), (ushort)(Cdf[e.CdfBase + s + 1] - Cdf[e.CdfBase + s] - 1));
                p += 2;
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(p), Crc32.Compute(buf.AsSpan(0, p)));
        return _serialized = buf;
    }

    /// <summary>Reads a table written by <see cref="Serialize"/>.</summary>
    /// <exception cref="InvalidDataException">Wrong magic/version/precision, truncation, CRC mismatch or an invalid CDF (with the byte position).</exception>
    public static CdfTable Deserialize(ReadOnlySpan<byte> data)
    {
        if (data.Length < 16) throw new InvalidDataException($"CDF table: {data.Length} bytes is shorter than the 16-byte header and CRC");
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic) throw new InvalidDataException("CDF table: bad magic (expected \"CDFT\")");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (version != FormatVersion) throw new InvalidDataException($"CDF table: format version {version} is not supported (expected {FormatVersion})");
        var precision = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        if (precision != Precision) throw new InvalidDataException($"CDF table: precision {precision} bits is not supported (expected {Precision})");
        var body = data[..^4];
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        if (Crc32.Compute(body) != crc) throw new InvalidDataException("CDF table: CRC mismatch (corrupt or truncated)");
        var count = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        if (count < 1 || count > body.Length / 8) throw new InvalidDataException($"CDF table: CDF count {count} is impossible for {data.Length} bytes");

        var entries = new Entry[count];
        var cdfList = new List<int>();
        var p = 12;
        for (var i = 0; i < count; i++)
        {
            if (p + 8 > body.Length) throw new InvalidDataException($"CDF table: truncated at byte {p} (CDF {i} header)");
            var offset = BinaryPrimitives.ReadInt32LittleEndian(body[p..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(body[(p + 4)..]);
            p += 8;
            if (length < 2 || length > (1 << Precision) + 1 || p + 2L * (length - 1) > body.Length)
                throw new InvalidDataException($"CDF table: CDF {i} at byte {p - 8} has impossible length {length}");
            var cdfBase = cdfList.Count;
            var acc = 0;
            cdfList.Add(0);
            for (var s = 0; s < length - 1; s++)
            {
                acc += BinaryPrimitives.ReadUInt16LittleEndian(body[p..]) + 1;
                p += 2;
                cdfList.Add(acc);
            }
            if (acc != 1 << Precision)
                throw new InvalidDataException($"CDF table: CDF {i} frequencies sum to {acc}, not {1 << Precision}");
            entries[i] = new Entry { CdfBase = cdfBase, BucketBase = i << BucketBits, MaxValue = length - 2, Offset = offset, Length = length };
        }
        if (p != body.Length) throw new InvalidDataException($"CDF table: {body.Length - p} unexpected bytes after the last CDF");
        var enc = 0;
        for (var i = 0; i < count; i++) { entries[i].EncBase = enc; enc += entries[i].Length - 1; }
        return new CdfTable(entries, cdfList.ToArray());
    }

    /// <summary>Reads a table written by <see cref="WriteTo"/> from the rest of <paramref name="stream"/>.</summary>
    public static CdfTable ReadFrom(Stream stream)
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Deserialize(ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }

    /// <summary>SHA-256 (lower-case hex) of the serialized form without its CRC: equal tables, equal hashes.</summary>
    public string ContentHash
    {
        get
        {
            if (_hash is not null) return _hash;
            var s = SerializedCached();
            return _hash = Convert.ToHexStringLower(SHA256.HashData(s.AsSpan(0, s.Length - 4)));
        }
    }

    /// <summary>Short version id: the first 16 hex digits of <see cref="ContentHash"/>, for stream headers and logs.</summary>
    public string VersionId => ContentHash[..16];

    /// <inheritdoc/>
    public override string ToString() => $"CdfTable({Count} CDFs, max length {MaxLength}, version {VersionId})";
}
