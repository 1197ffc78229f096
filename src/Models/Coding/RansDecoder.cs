using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CoFUsfl.Models.Coding;

/// <summary>
/// Decoder for streams of <see cref="RansEncoder"/> (and CompressAI's <c>RansEncoder</c>). The static
/// <see cref="DecodeWithIndexes(ReadOnlySpan{byte}, ReadOnlySpan{int}, CdfTable, Span{int})"/> decodes a whole
/// stream and checks it ends exactly where the symbols end; an instance decodes one stream in pieces
/// (CompressAI's <c>set_stream</c> / <c>decode_stream</c>, for autoregressive context models).
/// </summary>
/// <remarks>
/// A stream that is truncated, corrupt, or decoded with other indexes or CDFs than it was written with raises
/// <see cref="InvalidDataException"/>; decoding never reads outside the stream and always terminates.
/// </remarks>
public sealed class RansDecoder
{
    private const ulong RansL = RansEncoder.RansL;

    private ReadOnlyMemory<byte> _stream;
    private ulong _state;
    private int _pos;
    private bool _hasStream;

    // ---- whole-stream API -----------------------------------------------------------------------------------

    /// <summary>Decodes one symbol per entry of <paramref name="indexes"/> from CompressAI-format CDFs.</summary>
    public static int[] DecodeWithIndexes(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes,
        IReadOnlyList<int[]> cdfs, ReadOnlySpan<int> cdfLengths, ReadOnlySpan<int> offsets) =>
        DecodeWithIndexes(stream, indexes, new CdfTable(cdfs, cdfLengths, offsets));

    /// <summary>Decodes one symbol per entry of <paramref name="indexes"/>.</summary>
    public static int[] DecodeWithIndexes(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, CdfTable table)
    {
        var result = new int[indexes.Length];
        DecodeWithIndexes(stream, indexes, table, result);
        return result;
    }

    /// <summary>Decodes into <paramref name="destination"/> (at least <c>indexes.Length</c> long).</summary>
    /// <exception cref="InvalidDataException">Truncated or corrupt stream, or one written with other indexes/CDFs.</exception>
    /// <exception cref="ArgumentException">An index outside the table (named by position), or a short destination.</exception>
    public static void DecodeWithIndexes(ReadOnlySpan<byte> stream, ReadOnlySpan<int> indexes, CdfTable table, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(table);
        var state = Init(stream, out var pos);
        DecodeCore(stream, ref state, ref pos, indexes, table, destination);
        CheckEnd(stream, state, pos);
    }

    // ---- incremental API ------------------------------------------------------------------------------------

    /// <summary>Starts decoding <paramref name="stream"/> (CompressAI's <c>set_stream</c>). The memory must stay unchanged while decoding.</summary>
    public void SetStream(ReadOnlyMemory<byte> stream)
    {
        _state = Init(stream.Span, out _pos);
        _stream = stream;
        _hasStream = true;
    }

    /// <summary>Decodes the next <c>indexes.Length</c> symbols into <paramref name="destination"/> (CompressAI's <c>decode_stream</c>).</summary>
    public void DecodeStream(ReadOnlySpan<int> indexes, CdfTable table, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!_hasStream) throw new InvalidOperationException("SetStream must be called before DecodeStream");
        DecodeCore(_stream.Span, ref _state, ref _pos, indexes, table, destination);
    }

    /// <summary>Decodes the next <c>indexes.Length</c> symbols.</summary>
    public int[] DecodeStream(ReadOnlySpan<int> indexes, CdfTable table)
    {
        var result = new int[indexes.Length];
        DecodeStream(indexes, table, result);
        return result;
    }

    /// <summary>True when every word was consumed and the state is back at the encoder's initial state.</summary>
    public bool IsAtEnd => _hasStream && _pos == _stream.Length && _state == RansL;

    /// <summary>Throws <see cref="InvalidDataException"/> unless the stream was decoded exactly to its end.</summary>
    public void EnsureAtEnd()
    {
        if (!_hasStream) throw new InvalidOperationException("SetStream must be called first");
        CheckEnd(_stream.Span, _state, _pos);
    }

    // ---- core -----------------------------------------------------------------------------------------------

    private static ulong Init(ReadOnlySpan<byte> stream, out int pos)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("rANS streams are little-endian words");
        if (stream.Length < 8 || (stream.Length & 3) != 0)
            throw new InvalidDataException($"rANS stream of {stream.Length} bytes is invalid: it must be a multiple of 4 bytes and at least 8");
        pos = 8;
        return BinaryPrimitives.ReadUInt64LittleEndian(stream);
    }

    private static void CheckEnd(ReadOnlySpan<byte> stream, ulong state, int pos)
    {
        if (pos != stream.Length)
            throw new InvalidDataException($"rANS stream: {stream.Length - pos} of {stream.Length} bytes left after the last symbol (corrupt stream, or other indexes/CDFs than at encoding)");
        if (state != RansL)
            throw new InvalidDataException($"rANS stream: final state 0x{state:X16} is not the initial state 0x{RansL:X16} (corrupt stream, or other indexes/CDFs than at encoding)");
    }

    private static void DecodeCore(ReadOnlySpan<byte> stream, ref ulong state, ref int pos,
        ReadOnlySpan<int> indexes, CdfTable table, Span<int> destination)
    {
        if (destination.Length < indexes.Length)
            throw new ArgumentException($"destination holds {destination.Length} symbols but {indexes.Length} are decoded", nameof(destination));

        var x = state;
        var p = pos;
        var end = stream.Length;
        var count = (uint)table.Count;
        ref var stream0 = ref MemoryMarshal.GetReference(stream);
        ref var ent0 = ref MemoryMarshal.GetArrayDataReference(table.Entries);
        ref var cdf0 = ref MemoryMarshal.GetArrayDataReference(table.Cdf);
        ref var bucket0 = ref MemoryMarshal.GetArrayDataReference(table.Buckets);
        ref var idx0 = ref MemoryMarshal.GetReference(indexes);
        ref var dst0 = ref MemoryMarshal.GetReference(destination);

        for (var i = 0; i < indexes.Length; i++)
        {
            var idx = Unsafe.Add(ref idx0, i);
            if ((uint)idx >= count) ThrowBadIndex(i, idx, table.Count);
            ref var e = ref Unsafe.Add(ref ent0, idx);
            var cum = (uint)x & 0xFFFF;
            int s = Unsafe.Add(ref bucket0, e.BucketBase + (int)(cum >> CdfTable.BucketShift));
            ref var cdf = ref Unsafe.Add(ref cdf0, e.CdfBase);
            // Valid tables end at 2^16 > cum, so this stops inside the CDF.
            while ((uint)Unsafe.Add(ref cdf, s + 1) <= cum) s++;
            var start = (uint)Unsafe.Add(ref cdf, s);
            var freq = (uint)Unsafe.Add(ref cdf, s + 1) - start;
            x = freq * (x >> 16) + cum - start;
            if (x < RansL)
            {
                if (p >= end) ThrowTruncated(i, stream.Length);
                x = (x << 32) | Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref stream0, p));
                p += 4;
            }

            if (s != e.MaxValue)
            {
                Unsafe.Add(ref dst0, i) = s + e.Offset;
            }
            else
            {
                Unsafe.Add(ref dst0, i) = GetBypass(stream, ref x, ref p, e.MaxValue, e.Offset, i);
            }
        }

        state = x;
        pos = p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int GetBypass(ReadOnlySpan<byte> stream, ref ulong x, ref int p, int maxValue, int offset, int position)
    {
        var val = GetBits(stream, ref x, ref p, position);
        var nBypass = (int)val;
        while (val == RansEncoder.MaxBypass)
        {
            val = GetBits(stream, ref x, ref p, position);
            nBypass += (int)val;
            if (nBypass > RansEncoder.MaxBypassChunks) break;
        }
        if (nBypass > RansEncoder.MaxBypassChunks)
            throw new InvalidDataException($"rANS stream: symbol {position} claims {nBypass} bypass chunks (at most {RansEncoder.MaxBypassChunks} are valid); the stream is corrupt");
        uint raw = 0;
        for (var j = 0; j < nBypass; j++)
            raw |= GetBits(stream, ref x, ref p, position) << (j * RansEncoder.BypassBits);
        long value = raw >> 1;
        value = (raw & 1) != 0 ? -value - 1 : value + maxValue;
        value += offset;
        if (value is < int.MinValue or > int.MaxValue)
            throw new InvalidDataException($"rANS stream: symbol {position} decodes to {value}, outside int32; the stream is corrupt");
        return (int)value;
    }

    private static uint GetBits(ReadOnlySpan<byte> stream, ref ulong x, ref int p, int position)
    {
        var val = (uint)x & RansEncoder.MaxBypass;
        x >>= RansEncoder.BypassBits;
        if (x < RansL)
        {
            if (p + 4 > stream.Length) ThrowTruncated(position, stream.Length);
            x = (x << 32) | BinaryPrimitives.ReadUInt32LittleEndian(stream[p..]);
            p += 4;
        }
        return val;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTruncated(int position, int length) =>
        throw new InvalidDataException($"rANS stream of {length} bytes ends before symbol {position} is decoded (truncated, or other indexes/CDFs than at encoding)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadIndex(int position, int index, int count) =>
        throw new ArgumentException($"indexes[{position}] = {index} is outside the CDF table (valid: 0..{count - 1})", "indexes");
}
