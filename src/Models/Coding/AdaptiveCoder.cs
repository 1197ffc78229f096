namespace CoFUsfl.Models.Coding;

/// <summary>What one adaptive coding wrote, and the ideals it is measured against.</summary>
/// <param name="Symbols">Integer symbols coded.</param>
/// <param name="BytesWritten">Bytes of the side information (tables) plus every rANS string: what goes on the wire.</param>
/// <param name="SideBytes">Bytes of the side information alone.</param>
/// <param name="BitsEstimated">The coder's own estimate: the ideal code length of the symbols under the very tables sent
/// (−Σ log2 freq/2^16, escapes with their bypass bits), plus the side information's bits and each string's 64-bit final state.</param>
/// <param name="EntropyBits">Empirical entropy of the symbols (per channel, Σ −n·log2(n/N)): the ideal for this
/// quantization, with no side information; no code of these symbols with per-channel tables can do better.</param>
public readonly record struct CodingStats(long Symbols, long BytesWritten, long SideBytes, double BitsEstimated, double EntropyBits)
{
    public double BitsWritten => 8.0 * BytesWritten;

    public static CodingStats operator +(CodingStats a, CodingStats b) =>
        new(a.Symbols + b.Symbols, a.BytesWritten + b.BytesWritten, a.SideBytes + b.SideBytes, a.BitsEstimated + b.BitsEstimated, a.EntropyBits + b.EntropyBits);
}

/// <summary>An adaptive code: the per-channel tables (side information) and one rANS string per batch element.</summary>
public sealed record AdaptiveCode(byte[] Tables, byte[][] Strings, CodingStats Stats);

/// <summary>
/// Forward-adaptive entropy coding of integer tensors laid out [B, C, S] (S = H·W): for each channel the empirical
/// histogram of this very tensor becomes a 16-bit CDF that travels with it as side information (a few bytes per
/// channel), and every batch element is one rANS string coded under those tables. The rate paid therefore tracks the
/// distribution of the symbols at every message, from the first: no density has to be learned first, and the bits
/// written stay within the side information and the 16-bit quantization of the probabilities of the empirical entropy.
/// Values beyond a channel's table window (at most <see cref="MaxWindow"/> values) are escaped and bypass-coded.
/// </summary>
public static class AdaptiveCoder
{
    /// <summary>Most table entries of one channel; values outside the window are escaped (bypass-coded).</summary>
    public const int MaxWindow = 256;
    private const byte FormatVersion = 1;
    private const int Total = 1 << CdfTable.Precision;

    /// <summary>Codes <paramref name="symbols"/> ([B, C, S] flattened) with per-channel tables built from their histograms.</summary>
    public static AdaptiveCode Encode(int[] symbols, int batch, int channels)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        return Encode(symbols.AsMemory(), batch, channels);
    }

    /// <summary>Codes <paramref name="memory"/> ([B, C, S] flattened; a pooled buffer may be passed, it is not kept).</summary>
    public static AdaptiveCode Encode(ReadOnlyMemory<int> memory, int batch, int channels)
    {
        var symbols = memory.Span;
        if (batch <= 0 || channels <= 0 || symbols.Length % ((long)batch * channels) != 0)
            throw new ArgumentException($"{symbols.Length} symbols do not fill [{batch}, {channels}, S]", nameof(symbols));
        var s = symbols.Length / (batch * channels);
        var cdfs = new int[channels][];
        var offsets = new int[channels];
        var lengths = new int[channels];
        var header = new List<byte>(channels * 8) { FormatVersion };
        WriteVarint(header, (ulong)channels);
        double entropy = 0, estimate = 0;
        var counts = new Dictionary<int, long>();
        for (var c = 0; c < channels; c++)
        {
            counts.Clear();
            long min = long.MaxValue, max = long.MinValue;
            for (var b = 0; b < batch; b++)
                foreach (var v in symbols.Slice((b * channels + c) * s, s))
                {
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
            if (s == 0) min = max = 0;
            if (max - min < 1 << 16)
            {
                // The usual case: a dense count array over the channel's range.
                var dense = new long[max - min + 1];
                for (var b = 0; b < batch; b++)
                    foreach (var v in symbols.Slice((b * channels + c) * s, s)) dense[v - min]++;
                for (var i = 0; i < dense.Length; i++)
                    if (dense[i] > 0) counts[(int)(min + i)] = dense[i];
            }
            else
                for (var b = 0; b < batch; b++)
                    foreach (var v in symbols.Slice((b * channels + c) * s, s)) counts[v] = counts.GetValueOrDefault(v) + 1;
            var n = (long)batch * s;
            foreach (var k in counts.Values) entropy -= k * Math.Log2((double)k / n);
            // The window: the whole range when it fits, else MaxWindow values around the median.
            long lo = min, hi = max;
            if (hi - lo + 1 > MaxWindow)
            {
                var median = Median(counts, n);
                lo = Math.Max(min, median - MaxWindow / 2);
                hi = lo + MaxWindow - 1;
                if (hi > max) { hi = max; lo = hi - MaxWindow + 1; }
            }
            var len = (int)(hi - lo + 1);
            var pmf = new float[len + 1];
            long escaped = 0;
            foreach (var (v, k) in counts)
                if (v < lo || v > hi) escaped += k;
                else pmf[v - lo] = (float)((double)k / Math.Max(1, n));
            // The escape symbol always has a width; when nothing escapes it takes the least possible.
            pmf[len] = escaped > 0 ? (float)((double)escaped / n) : 0f;
            if (n == 0) pmf[0] = 1;
            var cdf = QuantizedCdf.FromPmf(pmf);
            cdfs[c] = cdf;
            offsets[c] = (int)lo;
            lengths[c] = cdf.Length;
            WriteVarint(header, ZigZag(lo));
            WriteVarint(header, (ulong)len);
            for (var i = 0; i <= len; i++) WriteVarint(header, (ulong)(cdf[i + 1] - cdf[i]));
            foreach (var (v, k) in counts)
            {
                if (v >= lo && v <= hi) estimate -= k * Math.Log2((double)(cdf[v - lo + 1] - cdf[v - lo]) / Total);
                else estimate += k * (-Math.Log2((double)(cdf[len + 1] - cdf[len]) / Total) + BypassBits(v - lo, len));
            }
        }
        var table = new CdfTable(cdfs, lengths, offsets);
        // Every batch element has the same channel layout, so one element's indexes serve them all.
        var indexes = ChannelIndexes(channels, s);
        var strings = new byte[batch][];
        var per = channels * s;
        ParallelStrings.ForEachElement(batch, per, b => strings[b] = RansEncoder.EncodeWithIndexes(memory.Span.Slice(b * per, per), indexes, table));
        var tables = header.ToArray();
        var bytes = tables.LongLength + strings.Sum(x => (long)x.Length);
        // The estimate also counts what every rANS string must write beyond its symbols: the 64-bit final state.
        return new AdaptiveCode(tables, strings, new CodingStats(symbols.Length, bytes, tables.Length, estimate + 8.0 * tables.Length + 64.0 * batch, entropy));
    }

    /// <summary>Decodes [B, C, S] symbols; malformed tables or strings are an <see cref="InvalidDataException"/>.</summary>
    public static int[] Decode(ReadOnlySpan<byte> tables, IReadOnlyList<ReadOnlyMemory<byte>> strings, int channels, int perChannel)
    {
        var table = ReadTables(tables, channels);
        var per = CheckLayout(strings, channels, perChannel);
        var result = new int[strings.Count * per];
        DecodeStrings(table, strings, channels, perChannel, result);
        return result;
    }

    /// <summary>Decodes [B, C, S] symbols into <paramref name="result"/>, exactly B·C·S long (a pooled buffer may be passed).</summary>
    public static void Decode(ReadOnlySpan<byte> tables, IReadOnlyList<ReadOnlyMemory<byte>> strings, int channels, int perChannel, Memory<int> result)
    {
        var table = ReadTables(tables, channels);
        var per = CheckLayout(strings, channels, perChannel);
        if (per * strings.Count != result.Length)
            throw new ArgumentException($"adaptive code: {strings.Count}×{per} symbols do not fill a destination of {result.Length}", nameof(result));
        DecodeStrings(table, strings, channels, perChannel, result);
    }

    private static long CheckLayout(IReadOnlyList<ReadOnlyMemory<byte>> strings, int channels, int perChannel)
    {
        if (strings.Count == 0) throw new InvalidDataException("adaptive code: no rANS strings");
        var per = (long)channels * perChannel;
        if (per * strings.Count > Array.MaxLength) throw new InvalidDataException($"adaptive code: {strings.Count}×{per} symbols is too many");
        return per;
    }

    private static void DecodeStrings(CdfTable table, IReadOnlyList<ReadOnlyMemory<byte>> strings, int channels, int perChannel, Memory<int> result)
    {
        var per = channels * perChannel;
        var indexes = ChannelIndexes(channels, perChannel);
        ParallelStrings.ForEachElement(strings.Count, per, b =>
        {
            try { RansDecoder.DecodeWithIndexes(strings[b].Span, indexes, table, result.Span.Slice(b * per, per)); }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException)
            {
                throw new InvalidDataException($"adaptive code: string {b}: {e.Message}", e);
            }
        });
    }

    private static CdfTable ReadTables(ReadOnlySpan<byte> s, int channels)
    {
        var pos = 0;
        if (s.Length == 0 || s[pos++] != FormatVersion) throw new InvalidDataException("adaptive code: tables missing or of an unknown format");
        var c = ReadVarint(s, ref pos);
        if (c != (ulong)channels) throw new InvalidDataException($"adaptive code: tables for {c} channels, the tensor has {channels}");
        var cdfs = new int[channels][];
        var lengths = new int[channels];
        var offsets = new int[channels];
        for (var i = 0; i < channels; i++)
        {
            var lo = UnZigZag(ReadVarint(s, ref pos));
            var len = ReadVarint(s, ref pos);
            if (len is 0 or > MaxWindow || lo < int.MinValue / 2 || lo > int.MaxValue / 2)
                throw new InvalidDataException($"adaptive code: channel {i}: window of {len} values from {lo} (1..{MaxWindow})");
            var cdf = new int[(int)len + 2];
            for (var j = 0; j <= (int)len; j++)
            {
                var f = ReadVarint(s, ref pos);
                if (f is 0 or > Total) throw new InvalidDataException($"adaptive code: channel {i}: frequency {f} of symbol {j} (1..{Total})");
                var next = cdf[j] + (long)f;
                if (next > Total) throw new InvalidDataException($"adaptive code: channel {i}: frequencies add up past {Total}");
                cdf[j + 1] = (int)next;
            }
            if (cdf[^1] != Total) throw new InvalidDataException($"adaptive code: channel {i}: frequencies add up to {cdf[^1]}, not {Total}");
            cdfs[i] = cdf;
            lengths[i] = cdf.Length;
            offsets[i] = (int)lo;
        }
        if (pos != s.Length) throw new InvalidDataException($"adaptive code: {s.Length - pos} bytes after the tables");
        return new CdfTable(cdfs, lengths, offsets);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int Channels, int PerChannel), int[]> indexCache = new();

    /// <summary>Channel of every symbol of one [C, S] batch element; read-only and kept per layout (a run has a few).</summary>
    private static int[] ChannelIndexes(int channels, int s)
    {
        if (indexCache.Count > 16) indexCache.Clear(); // many layouts (tests, odd shapes): start over rather than grow
        return indexCache.GetOrAdd((channels, s), static k =>
        {
            var idx = new int[(long)k.Channels * k.PerChannel];
            for (var c = 0; c < k.Channels; c++) idx.AsSpan(c * k.PerChannel, k.PerChannel).Fill(c);
            return idx;
        });
    }

    private static long Median(Dictionary<int, long> counts, long n)
    {
        long seen = 0;
        foreach (var v in counts.Keys.Order())
        {
            seen += counts[v];
            if (2 * seen >= n) return v;
        }
        return 0;
    }

    /// <summary>Bits the rANS bypass mode spends on an escaped value (CompressAI's 4-bit chunks plus their count).</summary>
    private static double BypassBits(long value, int maxValue)
    {
        var raw = value < 0 ? -2 * value - 1 : 2 * (value - maxValue);
        var chunks = 0;
        while ((raw >> (chunks * 4)) != 0) chunks++;
        return 4.0 * (chunks + chunks / 15 + 1);
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
    private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static void WriteVarint(List<byte> b, ulong v)
    {
        while (v >= 0x80) { b.Add((byte)(v | 0x80)); v >>= 7; }
        b.Add((byte)v);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> s, ref int pos)
    {
        ulong v = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= s.Length) throw new InvalidDataException("adaptive code: tables truncated");
            var b = s[pos++];
            v |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException("adaptive code: varint too long");
    }
}
