using CoFUsfl.Models.Coding;

namespace CoFUsfl.Models.Tests.Coding;

/// <summary>Shared fixtures: the CompressAI default Gaussian table and latent-like symbol draws.</summary>
internal static class RansTestData
{
    private static readonly Lazy<(float[] Scales, CdfTable Table)> Gaussian = new(() =>
    {
        var scales = GaussianCdfTables.ScaleTable();
        return (scales, GaussianCdfTables.Build(scales));
    });

    public static float[] ScaleTable => Gaussian.Value.Scales;
    public static CdfTable GaussianTable => Gaussian.Value.Table;

    /// <summary>Scales drawn log-uniformly in [0.11, 64], indexes from them, symbols drawn from round(N(0, σ²)).</summary>
    public static (int[] Symbols, int[] Indexes) GaussianLatent(int n, int seed, double maxScale = 64)
    {
        var rng = new Random(seed);
        var scales = new float[n];
        var symbols = new int[n];
        for (var i = 0; i < n; i++)
        {
            var s = Math.Exp(Math.Log(0.11) + rng.NextDouble() * (Math.Log(maxScale) - Math.Log(0.11)));
            scales[i] = (float)s;
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            symbols[i] = (int)Math.Round(z * s, MidpointRounding.AwayFromZero);
        }
        return (symbols, GaussianCdfTables.BuildIndexes(scales, ScaleTable));
    }

    /// <summary>
    /// Textbook port of CompressAI's <c>encode_with_indexes</c> with ryg's plain <c>Rans64EncPut</c> (a real
    /// 64-bit division): the oracle our reciprocal-based encoder must match byte for byte.
    /// </summary>
    public static byte[] ReferenceEncode(int[] symbols, int[] indexes, IReadOnlyList<int[]> cdfs, int[] lengths, int[] offsets)
    {
        const ulong L = 1ul << 31;
        var output = new List<uint>(); // written backwards: reversed at the end
        ulong x = L;

        void PutBits(uint val, int nbits)
        {
            var xMax = ((L >> 16) << 32) * (1ul << (16 - nbits));
            if (x >= xMax) { output.Add((uint)x); x >>= 32; }
            x = (x << nbits) | val;
        }

        for (var i = symbols.Length; i > 0; i--)
        {
            var cdfIdx = indexes[i - 1];
            var cdf = cdfs[cdfIdx];
            var maxValue = lengths[cdfIdx] - 2;
            var value = symbols[i - 1] - offsets[cdfIdx];
            if (value < 0 || value >= maxValue)
            {
                var raw = value < 0 ? -2 * value - 1 : 2 * (value - maxValue);
                var nBypass = 0;
                while ((raw >> (nBypass * 4)) != 0) nBypass++;
                for (var j = nBypass - 1; j >= 0; j--) PutBits((uint)((raw >> (j * 4)) & 15), 4);
                while (nBypass >= 15) { nBypass -= 15; PutBits(15, 4); }
                PutBits((uint)nBypass, 4);
                value = maxValue;
            }
            var start = (uint)cdf[value];
            var freq = (uint)(cdf[value + 1] - cdf[value]);
            var xMaxSym = ((L >> 16) << 32) * freq;
            if (x >= xMaxSym) { output.Add((uint)x); x >>= 32; }
            x = ((x / freq) << 16) + (x % freq) + start;
        }
        output.Add((uint)(x >> 32));
        output.Add((uint)x);
        output.Reverse();
        var bytes = new byte[output.Count * 4];
        for (var k = 0; k < output.Count; k++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * k), output[k]);
        return bytes;
    }
}
