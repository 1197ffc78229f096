namespace CoFUsfl.Models.Coding;

/// <summary>
/// Turns probability mass functions into the integer CDFs the rANS coder uses, exactly as CompressAI does
/// (<c>compressai/cpp_exts/ops/ops.cpp: pmf_to_quantized_cdf</c> and <c>EntropyModel._pmf_to_cdf</c>).
/// </summary>
public static class QuantizedCdf
{
    /// <summary>The coder's probability precision in bits: every CDF ends at 2^16.</summary>
    public const int Precision = 16;

    /// <summary>
    /// Quantizes <paramref name="pmf"/> to a CDF of <c>pmf.Length + 1</c> entries: starts at 0, ends at
    /// 2^<paramref name="precision"/>, strictly increasing (no symbol gets zero width: a symbol that would
    /// round to zero steals one count from the lowest-frequency symbol that has more than one).
    /// Bit-exact port of CompressAI's C++ <c>pmf_to_quantized_cdf</c> (float inputs, round half away from zero,
    /// integer renormalisation by the rounded total).
    /// </summary>
    /// <exception cref="ArgumentException">Empty pmf, negative or non-finite entries, all mass rounding to zero,
    /// or more symbols than 2^precision (then no symbol can be given a nonzero width).</exception>
    public static int[] FromPmf(ReadOnlySpan<float> pmf, int precision = Precision)
    {
        if (precision is < 1 or > 16)
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "precision must be 1..16 bits");
        if (pmf.IsEmpty) throw new ArgumentException("pmf is empty", nameof(pmf));
        if (pmf.Length > (1 << precision))
            throw new ArgumentException($"pmf has {pmf.Length} symbols; at most 2^{precision} fit a {precision}-bit CDF", nameof(pmf));

        var n = pmf.Length + 1;
        var cdf = new uint[n];
        var scale = (float)(1 << precision);
        for (var i = 0; i < pmf.Length; i++)
        {
            var p = pmf[i];
            if (!float.IsFinite(p) || p < 0)
                throw new ArgumentException($"pmf[{i}] = {p} is not a finite non-negative probability", nameof(pmf));
            // std::round on float: half away from zero; then converted to uint32.
            cdf[i + 1] = (uint)MathF.Round(p * scale, MidpointRounding.AwayFromZero);
        }

        // std::accumulate with an int accumulator: wraps modulo 2^32 like the C++.
        uint total = 0;
        unchecked { foreach (var c in cdf) total += c; }
        if (total == 0)
            throw new ArgumentException($"pmf of {pmf.Length} symbols quantizes to all zeros at {precision} bits", nameof(pmf));

        for (var i = 0; i < n; i++) cdf[i] = (uint)(((ulong)(1u << precision) * cdf[i]) / total);
        for (var i = 1; i < n; i++) cdf[i] += cdf[i - 1];
        cdf[n - 1] = 1u << precision;

        for (var i = 0; i < n - 1; i++)
        {
            if (cdf[i] != cdf[i + 1]) continue;
            // Steal one count from the lowest-frequency symbol that can spare it (first such symbol on ties).
            var bestFreq = uint.MaxValue;
            var bestSteal = -1;
            for (var j = 0; j < n - 1; j++)
            {
                var freq = cdf[j + 1] - cdf[j];
                if (freq > 1 && freq < bestFreq) { bestFreq = freq; bestSteal = j; }
            }
            if (bestSteal == -1)
                throw new ArgumentException($"pmf of {pmf.Length} symbols cannot give every symbol a nonzero {precision}-bit frequency", nameof(pmf));
            if (bestSteal < i)
                for (var j = bestSteal + 1; j <= i; j++) cdf[j]--;
            else
                for (var j = i + 1; j <= bestSteal; j++) cdf[j]++;
        }

        var result = new int[n];
        for (var i = 0; i < n; i++) result[i] = (int)cdf[i];
        return result;
    }

    /// <summary>
    /// CompressAI's <c>EntropyModel._pmf_to_cdf</c> for one row: the first <paramref name="pmf"/> entries followed by
    /// <paramref name="tailMass"/> (the escape symbol's probability), quantized with <see cref="FromPmf"/>.
    /// The result has <c>pmf.Length + 2</c> entries, which is the <c>cdf_length</c> the coder expects.
    /// </summary>
    public static int[] FromPmfWithTail(ReadOnlySpan<float> pmf, float tailMass, int precision = Precision)
    {
        var prob = new float[pmf.Length + 1];
        pmf.CopyTo(prob);
        prob[^1] = tailMass;
        return FromPmf(prob, precision);
    }

    /// <summary>
    /// Checks the coder's CDF invariants: at least 2 entries, <c>cdf[0] == 0</c>, <c>cdf[^1] == 2^precision</c>,
    /// strictly increasing. Throws <see cref="ArgumentException"/> naming <paramref name="name"/> and the position.
    /// </summary>
    public static void Validate(ReadOnlySpan<int> cdf, string name = "cdf", int precision = Precision)
    {
        if (cdf.Length < 2) throw new ArgumentException($"{name} has {cdf.Length} entries; a CDF needs at least 2");
        if (cdf[0] != 0) throw new ArgumentException($"{name}[0] = {cdf[0]}; a CDF must start at 0");
        if (cdf[^1] != 1 << precision)
            throw new ArgumentException($"{name}[{cdf.Length - 1}] = {cdf[^1]}; a CDF must end at 2^{precision} = {1 << precision}");
        for (var j = 0; j + 1 < cdf.Length; j++)
            if (cdf[j + 1] <= cdf[j])
                throw new ArgumentException($"{name} is not strictly increasing at {j}: {cdf[j]} then {cdf[j + 1]} (zero-width symbol)");
    }
}
