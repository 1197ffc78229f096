using System.Text.Json.Nodes;
using CoFUsfl.Models.Coding;

namespace CoFUsfl.Bench;

/// <summary>
/// rANS throughput on a Kodak-like latent: 192×32×48 symbols, scales log-uniform in [0.11, 64], CompressAI's
/// 64-entry Gaussian scale table. Reports encode and decode millions of symbols per second (medians).
/// </summary>
public sealed class RansBench : IBenchmarkSuite
{
    public string Name => "rans";
    public string Description => "rANS entropy coder: encode/decode Msym/s on Gaussian-table latent data (192x32x48)";

    public IEnumerable<BenchResult> Run(BenchOptions options)
    {
        const int channels = 192, height = 32, width = 48;
        var n = channels * height * width;
        var scaleTable = GaussianCdfTables.ScaleTable();
        var table = GaussianCdfTables.Build(scaleTable);
        var rng = new Random(options.Seed);
        var scales = new float[n];
        var symbols = new int[n];
        for (var i = 0; i < n; i++)
        {
            var s = Math.Exp(Math.Log(0.11) + rng.NextDouble() * (Math.Log(64) - Math.Log(0.11)));
            scales[i] = (float)s;
            var z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            symbols[i] = (int)Math.Round(z * s, MidpointRounding.AwayFromZero);
        }
        var indexes = GaussianCdfTables.BuildIndexes(scales, scaleTable);
        var stream = RansEncoder.EncodeWithIndexes(symbols, indexes, table);
        var decoded = new int[n];
        RansDecoder.DecodeWithIndexes(stream, indexes, table, decoded);
        if (!decoded.AsSpan().SequenceEqual(symbols)) throw new InvalidOperationException("rANS round trip failed");

        var (warmup, iterations) = options.Quick ? (2, 5) : (10, 40);
        var encMs = Measure.MedianMs(() => RansEncoder.EncodeWithIndexes(symbols, indexes, table), warmup, iterations);
        var decMs = Measure.MedianMs(() => RansDecoder.DecodeWithIndexes(stream, indexes, table, decoded), warmup, iterations);
        var extra = new JsonObject
        {
            ["symbols"] = n,
            ["bytes"] = stream.Length,
            ["bits_per_symbol"] = 8.0 * stream.Length / n,
            ["table_version"] = table.VersionId,
        };
        yield return new BenchResult(Name, "encode_msym_per_s", n / (encMs * 1e3), "Msym/s", extra);
        yield return new BenchResult(Name, "decode_msym_per_s", n / (decMs * 1e3), "Msym/s", (JsonObject)extra.DeepClone());
        yield return new BenchResult(Name, "encode_ms", encMs, "ms");
        yield return new BenchResult(Name, "decode_ms", decMs, "ms");
    }
}
