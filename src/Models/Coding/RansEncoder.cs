using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CoFUsfl.Models.Coding;

/// <summary>
/// rANS encoder compatible byte for byte with CompressAI's <c>RansEncoder.encode_with_indexes</c>
/// (ryg_rans <c>rans64.h</c>: 64-bit state, 32-bit little-endian output words, 16-bit precision; values
/// outside a CDF's range are escaped and bypass-coded in 4-bit chunks). Symbols are encoded last to first so
/// that <see cref="RansDecoder"/> reads the stream forwards.
/// </summary>
public static class RansEncoder
{
    internal const ulong RansL = 1ul << 31;
    internal const int BypassBits = 4;
    internal const int MaxBypass = (1 << BypassBits) - 1;
    /// <summary>
    /// Bypass chunks a value may take. The C++ shifts an int32 by 4·chunks while counting them, which is undefined
    /// (and loops forever on x86) from 8 chunks on; so raw values must stay below 2^28, |value| below about 2^27.
    /// </summary>
    internal const int MaxBypassChunks = 7;

    /// <summary>
    /// Encodes <paramref name="symbols"/>[i] with CDF <paramref name="indexes"/>[i] of CompressAI-format tables.
    /// Builds a <see cref="CdfTable"/> each call; for repeated use build the table once and call the other overload.
    /// </summary>
    public static byte[] EncodeWithIndexes(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes,
        IReadOnlyList<int[]> cdfs, ReadOnlySpan<int> cdfLengths, ReadOnlySpan<int> offsets) =>
        EncodeWithIndexes(symbols, indexes, new CdfTable(cdfs, cdfLengths, offsets));

    /// <summary>Encodes <paramref name="symbols"/>[i] with CDF <paramref name="indexes"/>[i] of <paramref name="table"/>.</summary>
    /// <exception cref="ArgumentException">Length mismatch, an index outside the table, or a value too far outside
    /// its CDF to bypass-code (|value| ≥ 2^27); the message names the position.</exception>
    public static byte[] EncodeWithIndexes(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, CdfTable table)
    {
        var words = EncodeCore(symbols, indexes, table, out var start);
        try
        {
            return MemoryMarshal.AsBytes(words.AsSpan(start)).ToArray();
        }
        finally { ArrayPool<uint>.Shared.Return(words); }
    }

    /// <summary>
    /// Encodes into <paramref name="destination"/>; returns false (writing nothing useful) when it is too small,
    /// with the needed size in <paramref name="bytesWritten"/>.
    /// </summary>
    public static bool TryEncodeWithIndexes(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, CdfTable table,
        Span<byte> destination, out int bytesWritten)
    {
        var words = EncodeCore(symbols, indexes, table, out var start);
        try
        {
            var bytes = MemoryMarshal.AsBytes(words.AsSpan(start));
            bytesWritten = bytes.Length;
            return bytes.TryCopyTo(destination);
        }
        finally { ArrayPool<uint>.Shared.Return(words); }
    }

    /// <summary>Encodes into a pooled word buffer, written backwards; the stream is <c>words[start..]</c>.</summary>
    private static uint[] EncodeCore(ReadOnlySpan<int> symbols, ReadOnlySpan<int> indexes, CdfTable table, out int start)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (symbols.Length != indexes.Length)
            throw new ArgumentException($"{symbols.Length} symbols but {indexes.Length} indexes", nameof(indexes));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("rANS streams are little-endian words");

        // Room for typical latents (well under 8 bits/symbol); grows when needed. 32 words of headroom cover the
        // most one symbol can emit (1 + 1 per bypass chunk) plus the flush.
        var buf = ArrayPool<uint>.Shared.Rent(Math.Max(256, symbols.Length / 4 + 64));
        var pos = buf.Length;
        var x = RansL;
        var count = (uint)table.Count;
        ref var ent0 = ref MemoryMarshal.GetArrayDataReference(table.Entries);
        ref var enc0 = ref MemoryMarshal.GetArrayDataReference(table.Enc);
        ref var sym0 = ref MemoryMarshal.GetReference(symbols);
        ref var idx0 = ref MemoryMarshal.GetReference(indexes);

        for (var i = symbols.Length - 1; i >= 0; i--)
        {
            if (pos < 32) buf = Grow(buf, ref pos);
            var idx = Unsafe.Add(ref idx0, i);
            if ((uint)idx >= count) ThrowBadIndex(i, idx, table.Count);
            ref var e = ref Unsafe.Add(ref ent0, idx);
            var value = (long)Unsafe.Add(ref sym0, i) - e.Offset;
            if ((ulong)value >= (ulong)e.MaxValue)
            {
                x = PutBypass(x, value, e.MaxValue, buf, ref pos, i);
                value = e.MaxValue;
            }
            ref var es = ref Unsafe.Add(ref enc0, e.EncBase + (int)value);
            if (x >= es.XMax)
            {
                Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(buf), --pos) = (uint)x;
                x >>= 32;
            }
            var q = Math.BigMul(x, es.RcpFreq, out _) >> es.RcpShift;
            x = x + es.Bias + q * es.CmplFreq;
        }

        if (pos < 2) buf = Grow(buf, ref pos);
        buf[--pos] = (uint)(x >> 32);
        buf[--pos] = (uint)x;
        start = pos;
        return buf;
    }

    private static uint[] Grow(uint[] buf, ref int pos)
    {
        var used = buf.Length - pos;
        var bigger = ArrayPool<uint>.Shared.Rent(buf.Length * 2);
        var newPos = bigger.Length - used;
        buf.AsSpan(pos).CopyTo(bigger.AsSpan(newPos));
        ArrayPool<uint>.Shared.Return(buf);
        pos = newPos;
        return bigger;
    }

    /// <summary>CompressAI's bypass mode: raw value in 4-bit chunks (high first), then the chunk count in 4-bit pieces.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong PutBypass(ulong x, long value, int maxValue, uint[] buf, ref int pos, int position)
    {
        var raw = value < 0 ? -2 * value - 1 : 2 * (value - maxValue);
        if (raw >= 1L << (MaxBypassChunks * BypassBits))
            throw new ArgumentException($"symbols[{position}] is {value} away from its CDF's range start; bypass coding is limited to about |value| < 2^27", "symbols");
        var nBypass = 0;
        while ((raw >> (nBypass * BypassBits)) != 0) nBypass++;
        for (var j = nBypass - 1; j >= 0; j--)
            x = PutBits(x, (uint)(raw >> (j * BypassBits)) & MaxBypass, buf, ref pos);
        while (nBypass >= MaxBypass)
        {
            nBypass -= MaxBypass;
            x = PutBits(x, MaxBypass, buf, ref pos);
        }
        return PutBits(x, (uint)nBypass, buf, ref pos);
    }

    /// <summary>ryg's Rans64EncPutBits: a uniform 4-bit symbol (freq 2^12 of 2^16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PutBits(ulong x, uint val, uint[] buf, ref int pos)
    {
        const ulong xMax = ((RansL >> 16) << 32) * (1ul << (16 - BypassBits));
        if (x >= xMax)
        {
            buf[--pos] = (uint)x;
            x >>= 32;
        }
        return (x << BypassBits) | val;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadIndex(int position, int index, int count) =>
        throw new ArgumentException($"indexes[{position}] = {index} is outside the CDF table (valid: 0..{count - 1})", "indexes");
}
